# expect: out_of_fuel
def search_range(values, target):
    low, high = 0, len(values) - 1
    first = -1
    while low <= high:
        middle = (low + high) // 2
        if values[middle] < target:
            low = middle + 1
        elif values[middle] > target:
            high = middle - 1
        else:
            first = middle
            high = middle
    if first == -1:
        return (-1, -1)
    last = first
    while last + 1 < len(values) and values[last + 1] == target:
        last += 1
    return (first, last)
