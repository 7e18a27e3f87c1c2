# expect: wrong_answer
# Evicts only when the cache already holds more than capacity: it keeps
# capacity + 1 entries.
from collections import OrderedDict


class LRUCache:
    def __init__(self, capacity):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.entries = OrderedDict()

    def get(self, key):
        if key not in self.entries:
            return -1
        self.entries.move_to_end(key)
        return self.entries[key]

    def put(self, key, value):
        if key in self.entries:
            self.entries.move_to_end(key)
        elif len(self.entries) > self.capacity:
            self.entries.popitem(last=False)
        self.entries[key] = value
