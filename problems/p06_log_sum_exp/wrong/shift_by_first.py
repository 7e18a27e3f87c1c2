# expect: exception
# Shifts by the first value instead of the maximum: exp overflows (OverflowError)
# when a later value is more than about 709.8 above the first.
import math


def log_sum_exp(values):
    if not values:
        raise ValueError("no values")
    shift = values[0]
    return shift + math.log(math.fsum(math.exp(value - shift) for value in values))
