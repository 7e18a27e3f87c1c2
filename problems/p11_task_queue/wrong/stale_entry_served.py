# expect: wrong_answer
# Lazy deletion that asks only whether the name is still queued, not whether
# this heap entry is its current one: after a re-add, the old entry (old
# priority, old place in line) is served.
import heapq
import itertools


class TaskQueue:
    def __init__(self):
        self._heap = []
        self._priority = {}
        self._counter = itertools.count()

    def add(self, name, priority):
        self._priority[name] = priority
        heapq.heappush(self._heap, (-priority, next(self._counter), name))

    def pop(self):
        while self._heap:
            _, _, name = heapq.heappop(self._heap)
            if name in self._priority:
                del self._priority[name]
                return name
        raise IndexError("pop from an empty TaskQueue")

    def remove(self, name):
        del self._priority[name]

    def __len__(self):
        return len(self._priority)
