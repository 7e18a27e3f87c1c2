# expect: complexity_mismatch O(n)
def search_range(values, target):
    first = last = -1
    for index, value in enumerate(values):
        if value == target:
            if first == -1:
                first = index
            last = index
    return (first, last)
