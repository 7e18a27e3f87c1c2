# expect: wrong_answer
# Welford's update with the old delta squared instead of delta times the new
# deviation: the sum of squares comes out too large.
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
        squares += delta * delta
    return mean, squares / count
