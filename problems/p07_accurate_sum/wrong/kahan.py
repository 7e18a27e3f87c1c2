# expect: numerical_instability
# Kahan's compensated sum: the compensation itself is lost when a term larger
# than the running sum arrives, so giants that cancel still lose the small terms.
def accurate_sum(values):
    total = 0.0
    compensation = 0.0
    for value in values:
        y = value - compensation
        t = total + y
        compensation = (t - total) - y
        total = t
    return total
