# expect: exception
# remove tests membership with `if not self._priority.get(name)`, so a queued
# task whose priority is 0 counts as absent and remove raises KeyError.
import heapq
import itertools


class TaskQueue:
    def __init__(self):
        self._heap = []
        self._priority = {}
        self._stamp = {}
        self._counter = itertools.count()

    def add(self, name, priority):
        stamp = next(self._counter)
        self._priority[name] = priority
        self._stamp[name] = stamp
        heapq.heappush(self._heap, (-priority, stamp, name))

    def pop(self):
        while self._heap:
            _, stamp, name = heapq.heappop(self._heap)
            if self._stamp.get(name) == stamp:
                del self._priority[name]
                del self._stamp[name]
                return name
        raise IndexError("pop from an empty TaskQueue")

    def remove(self, name):
        if not self._priority.get(name):
            raise KeyError(name)
        del self._priority[name]
        del self._stamp[name]

    def __len__(self):
        return len(self._priority)
