# expect: wrong_answer
import math


def quadratic_roots(a, b, c):
    if a == 0:
        raise ValueError("a must not be zero")
    discriminant = b * b - 4 * a * c
    if discriminant < 0:
        return ()
    if discriminant == 0:
        return (-b / (2 * a),)
    root = math.sqrt(discriminant)
    # Add quantities of the same sign: no cancellation.
    q = -0.5 * (b + math.copysign(root, b))
    first, second = q / a, c / q
    return (first, second)
