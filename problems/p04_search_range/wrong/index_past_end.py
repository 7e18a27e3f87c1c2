# expect: exception
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

    first = first_at_least(target)
    if values[first] != target:
        return (-1, -1)
    return (first, first_at_least(target + 1) - 1)
