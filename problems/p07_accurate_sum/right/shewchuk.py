def accurate_sum(values: list[float]) -> float:
    """Shewchuk's partials: an exact sum kept as non-overlapping floats."""
    partials: list[float] = []
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
    # Round the partials to one float, correcting the last step.
    if not partials:
        return 0.0
    hi = partials.pop()
    lo = 0.0
    while partials:
        x = hi
        y = partials.pop()
        hi = x + y
        yr = hi - x
        lo = y - yr
        if lo:
            break
    if partials and ((lo < 0 and partials[-1] < 0) or (lo > 0 and partials[-1] > 0)):
        y = lo * 2
        x = hi + y
        yr = x - hi
        if y == yr:
            hi = x
    return float(hi)
