import math


def log_sum_exp(values):
    if not values:
        raise ValueError("log_sum_exp() needs at least one value")
    largest = max(values)
    return largest + math.log(math.fsum(math.exp(value - largest) for value in values))
