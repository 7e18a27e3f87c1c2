# expect: wrong_answer
# Solves the linear equation when a is zero instead of raising ValueError.
import math


def quadratic_roots(a, b, c):
    if a == 0:
        return (-c / b,)
    discriminant = b * b - 4 * a * c
    if discriminant < 0:
        return ()
    if discriminant == 0:
        return (-b / (2 * a),)
    root = math.sqrt(discriminant)
    q = -0.5 * (b + math.copysign(root, b))
    return tuple(sorted((q / a, c / q)))
