# expect: wrong_answer
# Sums as Decimal, each float converted exactly, but in the default 28-digit
# context: the running total is rounded to 28 digits, so even [x, -x] leaves a
# residue when x's exact decimal expansion is longer (most floats with a
# fraction), and terms more than 28 digits apart are rounded away.
from decimal import Decimal


def accurate_sum(values):
    total = Decimal(0)
    for value in values:
        total += Decimal(value)
    return float(total)
