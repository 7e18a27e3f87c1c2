# expect: wrong_answer
# A defaultdict-style store: a get of an absent key stores -1 for it, and that
# entry takes a place in the cache.
from collections import OrderedDict


class _Store(OrderedDict):
    def __missing__(self, key):
        self[key] = -1
        return -1


class LRUCache:
    def __init__(self, capacity):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.entries = _Store()

    def get(self, key):
        value = self.entries[key]
        self.entries.move_to_end(key)
        return value

    def put(self, key, value):
        if key in self.entries:
            self.entries.move_to_end(key)
        elif len(self.entries) >= self.capacity:
            self.entries.popitem(last=False)
        self.entries[key] = value
