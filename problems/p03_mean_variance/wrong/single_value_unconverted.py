# expect: wrong_answer
# A shortcut for one value returns it as it came: an int, not a float.
def mean_and_variance(values):
    if not values:
        raise ValueError("no values")
    if len(values) == 1:
        return values[0], 0.0
    count = 0
    mean = 0.0
    squares = 0.0
    for value in values:
        count += 1
        delta = value - mean
        mean += delta / count
        squares += delta * (value - mean)
    return mean, squares / count
