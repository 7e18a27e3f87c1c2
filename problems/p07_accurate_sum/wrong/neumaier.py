# expect: numerical_instability
# Neumaier's improved Kahan sum: one compensation term, itself a plain float
# sum, so it loses what falls below its own precision across three scales.
def accurate_sum(values):
    total = 0.0
    compensation = 0.0
    for value in values:
        t = total + value
        if abs(total) >= abs(value):
            compensation += (total - t) + value
        else:
            compensation += (value - t) + total
        total = t
    return total + compensation
