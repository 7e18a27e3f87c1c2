# expect: wrong_answer
# Shortcut for one value: returns it as given, so [3] gives the int 3, not 3.0.
import math


def accurate_sum(values):
    if len(values) == 1:
        return values[0]
    return float(math.fsum(values))
