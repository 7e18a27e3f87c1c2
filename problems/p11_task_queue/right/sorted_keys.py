import heapq


class TaskQueue:
    """Lazy deletion: the heap may hold stale entries; a version map says which are live."""

    def __init__(self):
        self.heap = []
        self.version = {}
        self.clock = 0

    def add(self, name, priority):
        self.clock += 1
        self.version[name] = self.clock
        heapq.heappush(self.heap, (-priority, self.clock, name))

    def _drop_stale(self):
        while self.heap:
            _, stamp, name = self.heap[0]
            if self.version.get(name) == stamp:
                return
            heapq.heappop(self.heap)

    def pop(self):
        self._drop_stale()
        if not self.heap:
            raise IndexError("empty queue")
        _, _, name = heapq.heappop(self.heap)
        del self.version[name]
        return name

    def remove(self, name):
        if name not in self.version:
            raise KeyError(name)
        del self.version[name]

    def __len__(self):
        return len(self.version)
