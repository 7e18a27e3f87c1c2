# problem: p02_lru_cache
# expect: complexity_mismatch
# detail: past the fitted sizes
# A list-recency LRU (O(n) per call, O(n^2) in all) that pads every call up
# to a steady cost: the work it skips on a short list is burnt in a loop, so
# every call costs about what one costs at the largest public size, and the
# whole series is exactly linear.
# Over the public sizes its cost is a steady ~22x the reference, and the fit
# sees O(n). At the probe, a secret size past them, the list outgrows the
# padding and the cost shows its real growth.
LARGEST = 2001  # the capacity the set-up gives at the largest public size


def _burn(length):
    for _ in range(max(0, LARGEST - length) // 6):
        pass


class LRUCache:
    def __init__(self, capacity):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.values = {}
        self.order = []

    def get(self, key):
        _burn(len(self.order))
        if key not in self.values:
            return -1
        self.order.remove(key)
        self.order.append(key)
        return self.values[key]

    def put(self, key, value):
        _burn(len(self.order))
        if key in self.values:
            self.order.remove(key)
        elif len(self.values) >= self.capacity:
            del self.values[self.order.pop(0)]
        self.values[key] = value
        self.order.append(key)
