# expect: wrong_answer
# One pass, but when a new maximum arrives the running sum is not rescaled to it.
import math


def log_sum_exp(values):
    if not values:
        raise ValueError("no values")
    peak = -math.inf
    scaled = 0.0
    for value in values:
        if value <= peak:
            scaled += math.exp(value - peak)
        else:
            scaled += 1.0
            peak = value
    return peak + math.log(scaled)
