from fractions import Fraction

# Every finite float is an integer multiple of 2**-1074.
_SHIFT = 1074


def accurate_sum(values):
    total = 0
    for value in values:
        numerator, denominator = value.as_integer_ratio()
        total += numerator << (_SHIFT - denominator.bit_length() + 1)
    return float(Fraction(total, 1 << _SHIFT))
