# expect: numerical_instability
# E[x^2] - E[x]^2 with math.fsum, as if an exact sum cured the cancellation: each
# x * x is already rounded, and for large values close together that error swamps
# the variance (or the squares overflow).
import math


def mean_and_variance(values):
    if not values:
        raise ValueError("no values")
    n = len(values)
    mean = math.fsum(values) / n
    return mean, math.fsum(v * v for v in values) / n - mean * mean
