import math


def mean_and_variance(values: list[float]) -> tuple[float, float]:
    n = len(values)
    if n == 0:
        raise ValueError("mean_and_variance of no values")
    mean = math.fsum(values) / n
    variance = math.fsum((v - mean) ** 2 for v in values) / n
    return float(mean), float(variance)
