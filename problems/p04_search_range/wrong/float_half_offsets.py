# expect: wrong_answer
# Bisects for target - 0.5 and target + 0.5: right for small ints, but a huge int
# target is rounded to a float first, so a target that is present is missed.
from bisect import bisect_left


def search_range(values, target):
    first = bisect_left(values, target - 0.5)
    last = bisect_left(values, target + 0.5) - 1
    if first > last:
        return (-1, -1)
    return (first, last)
