# expect: wrong_answer
import statistics


def mean_and_variance(values):
    if not values:
        raise ValueError("no values")
    return statistics.mean(values), statistics.pvariance(values)
