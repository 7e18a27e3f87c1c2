import math


def quadratic_roots(a: float, b: float, c: float) -> tuple[float, ...]:
    if a == 0:
        raise ValueError("a is zero")
    p = b / a
    q = c / a
    half = -p / 2
    disc = half * half - q
    if disc < 0:
        return ()
    if disc == 0:
        return (half,)
    r = math.sqrt(disc)
    x1 = half + r if half >= 0 else half - r
    x2 = q / x1
    return (x1, x2) if x1 < x2 else (x2, x1)
