# expect: wrong_answer
# Returns a list, not the tuple the signature promises.
def mean_and_variance(values):
    if not values:
        raise ValueError("no values")
    count = 0
    mean = 0.0
    squares = 0.0
    for value in values:
        count += 1
        delta = value - mean
        mean += delta / count
        squares += delta * (value - mean)
    return [mean, squares / count]
