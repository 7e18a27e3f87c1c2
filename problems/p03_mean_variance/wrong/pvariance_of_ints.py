# expect: wrong_answer
# statistics.fmean is always a float, but statistics.pvariance keeps the input's
# type: a list of ints with a whole variance gives an int.
import statistics


def mean_and_variance(values):
    if not values:
        raise ValueError("no values")
    return statistics.fmean(values), statistics.pvariance(values)
