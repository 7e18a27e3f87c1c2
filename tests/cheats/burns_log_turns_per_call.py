# problem: p11_task_queue
# expect: complexity_mismatch
# detail: O(n^2)
# An O(n^2) sorted-list queue (bisect.insort, list.pop(0)),
# plus deliberate padding: every operation burns ~PAD * log2(size) cheap
# iterations. The padding is of the expected class, n log n, and large enough
# that the quadratic term stays under half the cost at the largest size, so
# the fit once reported the class below. A quadratic term that is there at
# all, not only one that dominates, is now the class.
import bisect

PAD = 40


def _burn(size):
    for _ in range(PAD * size.bit_length()):
        pass


class TaskQueue:
    def __init__(self):
        self._order = []
        self._entry = {}
        self._stamp = 0

    def add(self, name, priority):
        _burn(len(self._order) + 1)
        if name in self._entry:
            self._drop(name)
        self._stamp += 1
        key = (-priority, self._stamp, name)
        self._entry[name] = key
        bisect.insort(self._order, key)

    def _drop(self, name):
        key = self._entry.pop(name)
        del self._order[bisect.bisect_left(self._order, key)]

    def pop(self):
        _burn(len(self._order) + 1)
        if not self._order:
            raise IndexError("pop from an empty TaskQueue")
        _, _, name = self._order.pop(0)
        del self._entry[name]
        return name

    def remove(self, name):
        _burn(len(self._order) + 1)
        if name not in self._entry:
            raise KeyError(name)
        self._drop(name)

    def __len__(self):
        return len(self._order)
