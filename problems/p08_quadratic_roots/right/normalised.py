import math


def quadratic_roots(a: float, b: float, c: float) -> tuple[float, ...]:
    if a == 0:
        raise ValueError("a is zero")
    # The discriminant from the coefficients as given: divided by a first,
    # an exact double root such as (5x - 1)**2 would round into two.
    disc = b * b - 4 * a * c
    if disc < 0:
        return ()
    half = -b / (2 * a)
    if disc == 0:
        return (half,)
    r = math.sqrt(disc) / (2 * abs(a))
    x1 = half + r if half >= 0 else half - r
    x2 = (c / a) / x1
    return (x1, x2) if x1 < x2 else (x2, x1)
