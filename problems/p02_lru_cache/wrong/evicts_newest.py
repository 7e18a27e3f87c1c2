# expect: wrong_answer
class LRUCache:
    def __init__(self, capacity):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.entries = {}

    def get(self, key):
        return self.entries.get(key, -1)

    def put(self, key, value):
        if key not in self.entries and len(self.entries) >= self.capacity:
            self.entries.pop(next(reversed(self.entries)))
        self.entries[key] = value
