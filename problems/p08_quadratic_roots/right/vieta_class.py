import math


class _Quadratic:
    def __init__(self, a, b, c):
        if a == 0:
            raise ValueError("not a quadratic: a == 0")
        self.a, self.b, self.c = a, b, c

    def roots(self):
        a, b, c = self.a, self.b, self.c
        disc = b * b - 4 * a * c
        if disc < 0:
            return ()
        if disc == 0:
            return (-b / (2 * a),)
        sq = math.sqrt(disc)
        big = (-b - sq) / (2 * a) if b >= 0 else (-b + sq) / (2 * a)
        small = c / (a * big)
        return (min(big, small), max(big, small))


def quadratic_roots(a, b, c):
    return _Quadratic(a, b, c).roots()
