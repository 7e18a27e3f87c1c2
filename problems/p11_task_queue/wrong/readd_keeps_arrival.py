# expect: wrong_answer
import heapq
import itertools


class TaskQueue:
    def __init__(self):
        self._heap = []
        self._live = {}
        self._arrival = {}
        self._counter = itertools.count()

    def add(self, name, priority):
        if name in self._live:
            self._live[name][3] = False
        else:
            self._arrival[name] = next(self._counter)
        entry = [-priority, self._arrival[name], name, True]
        self._live[name] = entry
        heapq.heappush(self._heap, entry)

    def pop(self):
        while self._heap:
            _, _, name, alive = heapq.heappop(self._heap)
            if alive:
                del self._live[name]
                del self._arrival[name]
                return name
        raise IndexError("pop from an empty TaskQueue")

    def remove(self, name):
        entry = self._live.pop(name)
        del self._arrival[name]
        entry[3] = False

    def __len__(self):
        return len(self._live)
