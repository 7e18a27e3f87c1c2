# expect: wrong_answer
import bisect


def search_range(values, target):
    index = bisect.bisect_left(values, target)
    if index == len(values) or values[index] != target:
        return (-1, -1)
    return (index, index)
