import heapq
import math


def shortest_paths(n: int, edges: list[tuple[int, int, int]], source: int) -> list[int | None]:
    if source < 0 or source >= n:
        raise ValueError(f"source {source} not in 0..{n - 1}")
    if any(w < 0 for _, _, w in edges):
        raise ValueError("weights must be >= 0")
    if any(not (0 <= u < n and 0 <= v < n) for u, v, _ in edges):
        raise ValueError("node out of range")
    out = [[] for _ in range(n)]
    for u, v, w in edges:
        out[u].append((v, w))
    best = [math.inf] * n
    best[source] = 0
    heap = [(0, source)]
    done = [False] * n
    while heap:
        d, u = heapq.heappop(heap)
        if done[u]:
            continue
        done[u] = True
        for v, w in out[u]:
            if d + w < best[v]:
                best[v] = d + w
                heapq.heappush(heap, (best[v], v))
    return [None if d == math.inf else d for d in best]
