# expect: complexity_mismatch O(n^2)
def mean_and_variance(values):
    if not values:
        raise ValueError("no values")
    means = [sum(values[: i + 1]) / (i + 1) for i in range(len(values))]
    mean = means[-1]
    return mean, sum((v - mean) ** 2 for v in values) / len(values)
