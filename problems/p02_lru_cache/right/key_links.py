class LRUCache:
    """A ring of keys kept in two dicts (older and newer neighbour) around a sentinel."""

    _END = object()

    def __init__(self, capacity):
        if capacity < 1:
            raise ValueError("capacity must be at least one")
        self.capacity = capacity
        self.values = {}
        self.older = {self._END: self._END}
        self.newer = {self._END: self._END}

    def _detach(self, key):
        before, after = self.older.pop(key), self.newer.pop(key)
        self.newer[before] = after
        self.older[after] = before

    def _append(self, key):
        last = self.older[self._END]
        self.newer[last] = key
        self.older[key] = last
        self.newer[key] = self._END
        self.older[self._END] = key

    def get(self, key):
        if key not in self.values:
            return -1
        self._detach(key)
        self._append(key)
        return self.values[key]

    def put(self, key, value):
        if key in self.values:
            self._detach(key)
        elif len(self.values) == self.capacity:
            oldest = self.newer[self._END]
            self._detach(oldest)
            del self.values[oldest]
        self.values[key] = value
        self._append(key)
