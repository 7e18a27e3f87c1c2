# expect: complexity_mismatch O(n)
def search_range(values, target):
    low, high = 0, len(values) - 1
    while low <= high:
        middle = (low + high) // 2
        if values[middle] < target:
            low = middle + 1
        elif values[middle] > target:
            high = middle - 1
        else:
            first = last = middle
            while first > 0 and values[first - 1] == target:
                first -= 1
            while last < len(values) - 1 and values[last + 1] == target:
                last += 1
            return (first, last)
    return (-1, -1)
