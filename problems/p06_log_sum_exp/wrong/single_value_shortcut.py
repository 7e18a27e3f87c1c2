# expect: wrong_answer
# Shortcut for one value: returns it as given, so [3] gives the int 3, not 3.0.
import math


def log_sum_exp(values):
    if not values:
        raise ValueError("log_sum_exp() needs at least one value")
    if len(values) == 1:
        return values[0]
    largest = max(values)
    return largest + math.log(math.fsum(math.exp(value - largest) for value in values))
