import math


def log_sum_exp(values: list[float]) -> float:
    if not values:
        raise ValueError("log_sum_exp needs values")
    top = max(values)
    rest = 0.0
    skipped = False
    for v in values:
        if v == top and not skipped:
            skipped = True
            continue
        rest += math.exp(v - top)
    return top + math.log1p(rest)
