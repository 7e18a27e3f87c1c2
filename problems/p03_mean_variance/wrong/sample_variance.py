# expect: wrong_answer
def mean_and_variance(values):
    if not values:
        raise ValueError("no values")
    n = len(values)
    mean = sum(values) / n
    if n == 1:
        return mean, 0.0
    return mean, sum((v - mean) ** 2 for v in values) / (n - 1)
