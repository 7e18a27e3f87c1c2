# expect: exception
# Starts the running maximum at values[0] and forgets the empty list: IndexError, not ValueError.
import math


def log_sum_exp(values):
    largest = values[0]
    for value in values[1:]:
        if value > largest:
            largest = value
    return largest + math.log(math.fsum(math.exp(value - largest) for value in values))
