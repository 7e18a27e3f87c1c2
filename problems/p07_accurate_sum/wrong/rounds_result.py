# expect: wrong_answer
# Rounds the result to hide "0.30000000000000004": sums below 5e-11 become 0.0.
import math


def accurate_sum(values):
    return round(math.fsum(values), 10)
