# problem: p01_merge_intervals
# expect: complexity_mismatch
# detail: O(n^2)
# A correct but quadratic merge that tries to replace the fuel counter the
# old harness read from Python, so that it would look constant.
import sys
import types

try:
    import _fuelbench

    _fuelbench.fuel = lambda: 0
except ImportError:
    pass
sys.modules["_fuelbench"] = types.SimpleNamespace(fuel=lambda: 0)


def merge_intervals(intervals):
    merged = []
    for start, end in intervals:
        for index, (other_start, other_end) in enumerate(merged):
            if start <= other_end and other_start <= end:
                start, end = min(start, other_start), max(end, other_end)
                merged[index] = None
        merged = [item for item in merged if item is not None]
        merged.append((start, end))
    changed = True
    while changed:
        changed = False
        merged.sort()
        for index in range(len(merged) - 1):
            (a, b), (c, d) = merged[index], merged[index + 1]
            if c <= b:
                merged[index : index + 2] = [(a, max(b, d))]
                changed = True
                break
    return sorted(merged)
