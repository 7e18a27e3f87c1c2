# expect: wrong_answer
# The heap and the index are class attributes, shared by every TaskQueue:
# a new queue starts with whatever earlier queues left behind.
import heapq
import itertools


class TaskQueue:
    _heap = []
    _live = {}
    _counter = itertools.count()

    def add(self, name, priority):
        entry = [-priority, next(self._counter), name, True]
        if name in self._live:
            self._live[name][3] = False
        self._live[name] = entry
        heapq.heappush(self._heap, entry)

    def pop(self):
        while self._heap:
            _, _, name, alive = heapq.heappop(self._heap)
            if alive:
                del self._live[name]
                return name
        raise IndexError("pop from an empty TaskQueue")

    def remove(self, name):
        entry = self._live.pop(name)
        entry[3] = False

    def __len__(self):
        return len(self._live)
