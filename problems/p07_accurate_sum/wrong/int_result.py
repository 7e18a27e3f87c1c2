# expect: wrong_answer
import math


def accurate_sum(values):
    return round(math.fsum(values))
