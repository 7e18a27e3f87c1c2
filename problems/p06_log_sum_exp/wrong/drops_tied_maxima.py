# expect: wrong_answer
# log1p form that leaves out every copy of the maximum, not just one: a tied
# maximum contributes exp(0) = 1 only once.
import math


def log_sum_exp(values):
    if not values:
        raise ValueError("log_sum_exp() needs at least one value")
    top = max(values)
    rest = math.fsum(math.exp(value - top) for value in values if value != top)
    return top + math.log1p(rest)
