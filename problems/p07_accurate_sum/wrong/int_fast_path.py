# expect: wrong_answer
# "Ints are exact already": sums them with sum(), which returns an int.
import math


def accurate_sum(values):
    if values and all(isinstance(value, int) for value in values):
        return sum(values)
    return float(math.fsum(values))
