# expect: wrong_answer
# Treats a discriminant small relative to b*b as zero: close but distinct roots
# far from the origin (10000 and 10001) collapse into one.
import math


def quadratic_roots(a, b, c):
    if a == 0:
        raise ValueError("a must not be zero")
    discriminant = b * b - 4 * a * c
    if abs(discriminant) <= 1e-9 * b * b:
        return (-b / (2 * a),)
    if discriminant < 0:
        return ()
    root = math.sqrt(discriminant)
    q = -0.5 * (b + math.copysign(root, b))
    return tuple(sorted((q / a, c / q)))
