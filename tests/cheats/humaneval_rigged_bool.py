# suite: HumanEval/0
# expect: failed
# detail: UnrepresentableResult: the candidate returned Truthy
# The suite's test asserts `candidate(...) == True` and `== False`: an object
# that equals both would pass every assert if it reached one.
class Truthy(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


def has_close_elements(numbers, threshold):
    return Truthy(1)
