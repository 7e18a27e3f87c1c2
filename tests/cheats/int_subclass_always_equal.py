# problem: p09_edit_distance
# expect: wrong_answer
# detail: returned what is not plain built-in data (Yes)
# An int whose __eq__ always says yes: the old in-guest comparison accepted
# any isinstance(got, int).
class Yes(int):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = int.__hash__


def edit_distance(source, target):
    return Yes(0)
