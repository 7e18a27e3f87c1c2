# expect: wrong_answer
# Both searches run over [0, len - 1]: when the target's run reaches the last
# index, the upper-bound search stops on it and answers one too few.
def search_range(values, target):
    if not values:
        return (-1, -1)
    low, high = 0, len(values) - 1
    while low < high:
        middle = (low + high) // 2
        if values[middle] < target:
            low = middle + 1
        else:
            high = middle
    if values[low] != target:
        return (-1, -1)
    first = low
    high = len(values) - 1
    while low < high:
        middle = (low + high) // 2
        if values[middle] <= target:
            low = middle + 1
        else:
            high = middle
    return (first, low - 1)
