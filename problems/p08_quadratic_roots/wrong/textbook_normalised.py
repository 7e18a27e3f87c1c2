# expect: wrong_answer
# Divides by a first, then the textbook formula on x**2 + p*x + q: the same
# cancellation in -p/2 + sqrt(p*p/4 - q) loses the small root, and an exact
# double root such as (5x - 1)**2 rounds into two roots or none.
import math


def quadratic_roots(a, b, c):
    if a == 0:
        raise ValueError("a must not be zero")
    p, q = b / a, c / a
    discriminant = p * p / 4 - q
    if discriminant < 0:
        return ()
    if discriminant == 0:
        return (-p / 2,)
    root = math.sqrt(discriminant)
    return (-p / 2 - root, -p / 2 + root)
