# suite: HumanEval/2
# expect: failed
# detail: AssertionError
# The test checks `abs(candidate(x) - want) < 1e-6`; a candidate that makes
# abs() return 0 would pass with any answer. The test sees the built-ins as
# they were before the candidate loaded.
import builtins

builtins.abs = lambda value: 0


def truncate_number(number):
    return 0.0
