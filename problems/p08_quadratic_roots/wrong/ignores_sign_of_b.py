# expect: exception
# The stable formula without copysign: q = -(b + sqrt(d)) / 2 vanishes when b
# is negative and c is zero, and c / q divides zero by zero.
import math


def quadratic_roots(a, b, c):
    if a == 0:
        raise ValueError("a must not be zero")
    discriminant = b * b - 4 * a * c
    if discriminant < 0:
        return ()
    if discriminant == 0:
        return (-b / (2 * a),)
    q = -0.5 * (b + math.sqrt(discriminant))
    return tuple(sorted((q / a, c / q)))
