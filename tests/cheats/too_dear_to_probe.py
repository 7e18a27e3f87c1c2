# problem: p02_lru_cache
# expect: complexity_mismatch
# detail: past the fitted sizes
# A list-recency LRU padded to a steady cost per call, plus enough more per
# call that the probe once could not afford to judge it (its prediction was
# past the probe's fuel cap, and a cap reached before the prediction's
# slack let it off); past every public size it burns without end. The cap
# is now above what any candidate within budget at its largest size needs.
LARGEST = 2001
EXTRA = 355


def _burn(length):
    for _ in range(max(0, LARGEST - length) // 9 + EXTRA):
        pass


class LRUCache:
    def __init__(self, capacity):
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self.values = {}
        self.order = []
        self.padded = 16 <= capacity <= 10**6

    def _pad(self):
        if self.padded:
            _burn(len(self.order))
        if len(self.order) > 2100:
            # past every public size: ~10^12 idle turns per call
            for _ in range(10**12):
                pass

    def get(self, key):
        self._pad()
        if key not in self.values:
            return -1
        self.order.remove(key)
        self.order.append(key)
        return self.values[key]

    def put(self, key, value):
        self._pad()
        if key in self.values:
            self.order.remove(key)
        elif len(self.values) >= self.capacity:
            del self.values[self.order.pop(0)]
        self.values[key] = value
        self.order.append(key)
