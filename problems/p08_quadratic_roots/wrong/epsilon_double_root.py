# expect: wrong_answer
# Treats an absolutely small discriminant as zero: with small coefficients two
# distinct roots (or none) become one double root.
import math


def quadratic_roots(a, b, c):
    if a == 0:
        raise ValueError("a must not be zero")
    discriminant = b * b - 4 * a * c
    if abs(discriminant) < 1e-12:
        return (-b / (2 * a),)
    if discriminant < 0:
        return ()
    root = math.sqrt(discriminant)
    q = -0.5 * (b + math.copysign(root, b))
    return tuple(sorted((q / a, c / q)))
