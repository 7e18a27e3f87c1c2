# expect: wrong_answer
import math


def accurate_sum(values):
    if not values:
        return 0
    return float(math.fsum(values))
