# suite: HumanEval/32
# expect: failed
# detail: AssertionError
# The test checks `poly(coeffs, candidate(coeffs))` is near zero, with the
# prompt's `poly`; redefining it here does not change the test's.
import math


def poly(xs, x):
    return 0.0


def find_zero(xs):
    return 12345.0
