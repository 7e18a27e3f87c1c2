import heapq
from collections import defaultdict


class _Graph:
    def __init__(self, n, edges):
        self.n = n
        self.adjacent = defaultdict(list)
        for u, v, w in edges:
            if not (0 <= u < n) or not (0 <= v < n):
                raise ValueError("edge endpoint out of range")
            if w < 0:
                raise ValueError("negative edge weight")
            self.adjacent[u].append((w, v))

    def distances_from(self, source):
        if not (0 <= source < self.n):
            raise ValueError("source out of range")
        settled = {}
        heap = [(0, source)]
        while heap:
            d, node = heapq.heappop(heap)
            if node in settled:
                continue
            settled[node] = d
            for w, nxt in self.adjacent[node]:
                if nxt not in settled:
                    heapq.heappush(heap, (d + w, nxt))
        return [settled.get(i) for i in range(self.n)]


def shortest_paths(n, edges, source):
    return _Graph(n, edges).distances_from(source)
