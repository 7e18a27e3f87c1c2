# expect: wrong_answer
# Lazy deletion that recognises a stale entry by its priority: a name re-added
# with the same priority keeps its old entry live, so it is served in its old
# place instead of behind its ties.
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
            negative, _, name = heapq.heappop(self._heap)
            if name in self._priority and self._priority[name] == -negative:
                del self._priority[name]
                return name
        raise IndexError("pop from an empty TaskQueue")

    def remove(self, name):
        del self._priority[name]

    def __len__(self):
        return len(self._priority)
