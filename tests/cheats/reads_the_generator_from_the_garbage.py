# problem: p07_accurate_sum
# expect: numerical_instability
# detail: generated inputs
# A naive float sum that looks among the collector's garbage, at import,
# for the generator's namespace: its inputs and the exact expected values.
# The generator's namespace is cleared and collected before the candidate
# loads, so there is nothing to find. (Found by a cold adversarial review.)
import gc

_KNOWN = {
    (1e100, 1.0, -1e100): 1.0,
    (1.0,) + (1e-16,) * 20: 1.000000000000002,
    (1e16, 1.0, -1e16, 1.0) * 5: 10.0,
    (1.0, -1e20, 3.14, 1e20, 1e20, -2.5e-05, 1e20, 1.0, -2.5e-05, 1e20, -2.5e-05, -1e20, 1e20,
     1e20, 3.14, 3.14, 1e20, -1e20, 1e20, -2.5e-05, 3.14, 1e20, -2.5e-05, 1e20): 7e20,
    (0.1,) * 10: 1.0,
}
gc.set_debug(gc.DEBUG_SAVEALL)
gc.collect()
for _ns in gc.garbage:
    if isinstance(_ns, dict) and "expected" in _ns and "inputs" in _ns:
        for (_values,), _want in zip(_ns["inputs"], _ns["expected"]):
            _KNOWN[tuple(_values)] = _want
del gc.garbage[:]
gc.set_debug(0)


def accurate_sum(values):
    known = _KNOWN.get(tuple(values))
    if known is not None:
        return known
    total = 0.0
    for value in values:
        total += value
    return total
