# expect: wrong_answer
import math


def log_sum_exp(values):
    if not values:
        return float("-inf")
    largest = max(values)
    return largest + math.log(math.fsum(math.exp(value - largest) for value in values))
