# expect: complexity_mismatch O(n^2)
import math


def log_sum_exp(values):
    if not values:
        raise ValueError("log_sum_exp() needs at least one value")
    total = math.fsum(math.exp(value - max(values)) for value in values)
    return max(values) + math.log(total)
