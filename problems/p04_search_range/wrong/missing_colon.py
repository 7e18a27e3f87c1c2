# expect: syntax_error
def search_range(values, target)
    low, high = 0, len(values)
    return (low, high)
