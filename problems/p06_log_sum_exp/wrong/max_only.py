# expect: wrong_answer
def log_sum_exp(values):
    if not values:
        raise ValueError("no values")
    return float(max(values))
