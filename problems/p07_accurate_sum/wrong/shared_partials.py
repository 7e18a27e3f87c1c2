# expect: wrong_answer
# Shewchuk's partials in a mutable default argument: they survive from one
# call to the next, so every later sum includes the earlier ones.
def accurate_sum(values, partials=[]):
    for x in values:
        i = 0
        for y in partials:
            if abs(x) < abs(y):
                x, y = y, x
            hi = x + y
            lo = y - (hi - x)
            if lo:
                partials[i] = lo
                i += 1
            x = hi
        partials[i:] = [x]
    return float(sum(partials, 0.0))
