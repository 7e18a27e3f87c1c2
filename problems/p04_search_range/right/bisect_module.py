from bisect import bisect_left, bisect_right


def search_range(values, target):
    lo = bisect_left(values, target)
    if lo >= len(values) or values[lo] != target:
        return (-1, -1)
    return (lo, bisect_right(values, target) - 1)
