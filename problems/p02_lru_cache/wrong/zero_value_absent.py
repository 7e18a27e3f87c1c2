# expect: wrong_answer
# Tests the looked-up value for truth: a stored 0 reads as a miss.
from collections import OrderedDict


class LRUCache:
    def __init__(self, capacity):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.entries = OrderedDict()

    def get(self, key):
        value = self.entries.get(key)
        if not value:
            return -1
        self.entries.move_to_end(key)
        return value

    def put(self, key, value):
        if key in self.entries:
            self.entries.move_to_end(key)
        elif len(self.entries) >= self.capacity:
            self.entries.popitem(last=False)
        self.entries[key] = value
