# expect: wrong_answer
# Answers (0.0, 0.0) for an empty list instead of raising ValueError.
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
        return 0.0, 0.0
    return mean, squares / count
