# expect: numerical_instability
import math


def log_sum_exp(values):
    if not values:
        raise ValueError("no values")
    return math.log(sum(math.exp(value) for value in values))
