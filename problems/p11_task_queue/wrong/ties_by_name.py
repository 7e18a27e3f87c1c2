# expect: wrong_answer
# Equal priorities are broken by the name (the heap compares names right
# after priorities), not by arrival order.
import heapq


class TaskQueue:
    def __init__(self):
        self._heap = []
        self._version = {}
        self._versions = 0

    def add(self, name, priority):
        self._versions += 1
        self._version[name] = self._versions
        heapq.heappush(self._heap, (-priority, name, self._versions))

    def pop(self):
        while self._heap:
            _, name, version = heapq.heappop(self._heap)
            if self._version.get(name) == version:
                del self._version[name]
                return name
        raise IndexError("pop from an empty TaskQueue")

    def remove(self, name):
        del self._version[name]

    def __len__(self):
        return len(self._version)
