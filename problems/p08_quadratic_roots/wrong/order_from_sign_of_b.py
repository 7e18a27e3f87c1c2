# expect: wrong_answer
# Orders the two roots by the sign of b instead of comparing them, which only
# holds when a is positive: a negative a gives them descending.
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
    q = -0.5 * (b + math.copysign(root, b))
    big, small = q / a, c / q
    # b >= 0 puts the big root on the negative side, so it comes first.
    return (big, small) if b >= 0 else (small, big)
