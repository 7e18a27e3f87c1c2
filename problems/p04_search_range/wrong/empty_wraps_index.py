# expect: exception
# Checks the candidate last index with values[last]; for an empty list that
# index is -1 and the lookup raises IndexError.
def search_range(values, target):
    def first_at_least(goal):
        low, high = 0, len(values)
        while low < high:
            middle = (low + high) // 2
            if values[middle] < goal:
                low = middle + 1
            else:
                high = middle
        return low

    last = first_at_least(target + 1) - 1
    if values[last] != target:
        return (-1, -1)
    return (first_at_least(target), last)
