# problem: p01_merge_intervals
# expect: wrong_answer
# detail: not plain built-in data (Rigged)
# A list subclass that equals everything and has the length of anything.
class Rigged(list):
    def __eq__(self, other):
        return True

    def __len__(self):
        return 1

    def __iter__(self):
        return iter([(1, 6), (8, 10), (15, 18)])


def merge_intervals(intervals):
    return Rigged()
