# expect: wrong_answer
# Takes bisect_right as the last index, forgetting that it points one past the run.
from bisect import bisect_left, bisect_right


def search_range(values, target):
    first = bisect_left(values, target)
    if first == len(values) or values[first] != target:
        return (-1, -1)
    return (first, bisect_right(values, target))
