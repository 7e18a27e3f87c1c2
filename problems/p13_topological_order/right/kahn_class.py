import heapq
from collections import defaultdict


class _Dag:
    def __init__(self, n, edges):
        self.n = n
        self.after = defaultdict(list)
        self.waiting = [0] * n
        for u, v in edges:
            if not (0 <= u < n and 0 <= v < n):
                raise ValueError("node out of range")
            self.after[u].append(v)
            self.waiting[v] += 1

    def order(self):
        free = [v for v in range(self.n) if self.waiting[v] == 0]
        heapq.heapify(free)
        placed = []
        while free:
            v = heapq.heappop(free)
            placed.append(v)
            for w in self.after[v]:
                self.waiting[w] -= 1
                if not self.waiting[w]:
                    heapq.heappush(free, w)
        if len(placed) != self.n:
            raise ValueError("cycle")
        return placed


def topological_order(n, edges):
    return _Dag(n, edges).order()
