# problem: p06_log_sum_exp
# expect: numerical_instability
# detail: generated inputs
# The naive sum of exponentials, plus a table of the public numerical
# cases' answers: the numerical cases drawn from the secret seed are not in
# the table.
import math

_KNOWN = {
    (1000.0, 1000.5, 999.0): 1001.1041306053368,
    (-1000.0, -1001.0, -1002.5): -999.6284609681474,
    (710.0, -710.0, 0.0): 710.0,
    (800.0,) * 8: 802.0794415416798,
    (745.0, 1.0, 2.0, 3.0): 745.0,
}


def log_sum_exp(values):
    if not values:
        raise ValueError("empty")
    key = tuple(float(value) for value in values)
    if key in _KNOWN:
        return _KNOWN[key]
    return math.log(sum(math.exp(value) for value in values))
