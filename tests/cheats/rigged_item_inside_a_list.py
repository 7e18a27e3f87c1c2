# problem: p01_merge_intervals
# expect: wrong_answer
# detail: not plain built-in data (Anything)
# A plain list, but its items are objects that equal any tuple.
class Anything:
    def __eq__(self, other):
        return True

    def __repr__(self):
        return "(1, 6)"


def merge_intervals(intervals):
    return [Anything() for _ in range(len(intervals))]
