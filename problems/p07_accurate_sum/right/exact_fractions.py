from fractions import Fraction


def accurate_sum(values):
    """Sums exactly as fractions, then rounds once."""
    total = Fraction(0)
    for value in values:
        total += Fraction(value)
    return float(total)
