def mean_and_variance(values):
    if not values:
        raise ValueError("empty input")
    shift = values[0]
    total = 0.0
    total_sq = 0.0
    n = 0
    for x in values:
        d = x - shift
        total += d
        total_sq += d * d
        n += 1
    mean_shift = total / n
    variance = (total_sq - total * mean_shift) / n
    return (shift + mean_shift, max(variance, 0.0))
