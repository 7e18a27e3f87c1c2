# expect: numerical_instability
def mean_and_variance(values):
    if not values:
        raise ValueError("no values")
    n = len(values)
    total = sum(values)
    total_squares = sum(v * v for v in values)
    mean = total / n
    return mean, total_squares / n - mean * mean
