# expect: wrong_answer
# Guards only against the target lying past the end: a target below every value
# or in a gap between two values gives (first, first - 1) instead of (-1, -1).
from bisect import bisect_left, bisect_right


def search_range(values, target):
    first = bisect_left(values, target)
    if first == len(values):
        return (-1, -1)
    return (first, bisect_right(values, target) - 1)
