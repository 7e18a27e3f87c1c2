import math


def accurate_sum(values):
    return float(math.fsum(values))
