class TaskQueue:
    """A binary heap written out by hand, with each name's slot indexed so a
    task can be replaced or removed in place."""

    def __init__(self):
        self._heap = []  # [key, name], key = (-priority, arrival)
        self._slot = {}
        self._arrivals = 0

    def __len__(self):
        return len(self._heap)

    def add(self, name, priority):
        self._arrivals += 1
        key = (-priority, self._arrivals)
        if name in self._slot:
            index = self._slot[name]
            self._heap[index][0] = key
            self._repair(index)
        else:
            self._heap.append([key, name])
            self._slot[name] = len(self._heap) - 1
            self._up(len(self._heap) - 1)

    def pop(self):
        if not self._heap:
            raise IndexError("pop from an empty TaskQueue")
        name = self._heap[0][1]
        self._delete(0)
        return name

    def remove(self, name):
        self._delete(self._slot[name])

    def _delete(self, index):
        last = len(self._heap) - 1
        self._swap(index, last)
        _, name = self._heap.pop()
        del self._slot[name]
        if index < len(self._heap):
            self._repair(index)

    def _repair(self, index):
        self._up(index)
        self._down(index)

    def _swap(self, i, j):
        heap = self._heap
        heap[i], heap[j] = heap[j], heap[i]
        self._slot[heap[i][1]] = i
        self._slot[heap[j][1]] = j

    def _up(self, index):
        while index > 0:
            parent = (index - 1) // 2
            if self._heap[index][0] >= self._heap[parent][0]:
                break
            self._swap(index, parent)
            index = parent

    def _down(self, index):
        size = len(self._heap)
        while True:
            smallest = index
            for child in (2 * index + 1, 2 * index + 2):
                if child < size and self._heap[child][0] < self._heap[smallest][0]:
                    smallest = child
            if smallest == index:
                return
            self._swap(index, smallest)
            index = smallest
