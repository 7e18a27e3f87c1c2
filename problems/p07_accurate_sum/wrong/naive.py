# expect: numerical_instability
def accurate_sum(values):
    total = 0.0
    for value in values:
        total += value
    return total
