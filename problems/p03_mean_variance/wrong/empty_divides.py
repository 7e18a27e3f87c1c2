# expect: exception
def mean_and_variance(values):
    mean = sum(values) / len(values)
    count = 0
    mean = 0.0
    squares = 0.0
    for value in values:
        count += 1
        delta = value - mean
        mean += delta / count
        squares += delta * (value - mean)
    return mean, squares / count
