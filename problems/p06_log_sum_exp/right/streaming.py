import math


def log_sum_exp(values):
    """One pass: keep the running maximum and the sum scaled to it."""
    if len(values) == 0:
        raise ValueError("no values")
    peak = -math.inf
    scaled = 0.0
    for v in values:
        if v <= peak:
            scaled += math.exp(v - peak)
        else:
            scaled = scaled * math.exp(peak - v) + 1.0
            peak = v
    return peak + math.log(scaled)
