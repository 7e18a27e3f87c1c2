def mean_and_variance(values):
    count = 0
    mean = 0.0
    squares = 0.0
    for value in values:
        count += 1
        delta = value - mean
        mean += delta / count
        squares += delta * (value - mean)
    if count == 0:
        raise ValueError("mean_and_variance() needs at least one value")
    return mean, squares / count
