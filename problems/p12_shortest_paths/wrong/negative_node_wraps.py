# expect: wrong_answer
# Checks only `u >= n or v >= n`: a negative node index is let through and
# Python's negative indexing wraps it round to a node at the end.
import heapq


def shortest_paths(n, edges, source):
    if not 0 <= source < n:
        raise ValueError("source is not a node")
    graph = [[] for _ in range(n)]
    for u, v, w in edges:
        if u >= n or v >= n:
            raise ValueError("node out of range")
        if w < 0:
            raise ValueError("negative weight")
        graph[u].append((v, w))
    dist = [None] * n
    dist[source] = 0
    heap = [(0, source)]
    while heap:
        d, u = heapq.heappop(heap)
        if d > dist[u]:
            continue
        for v, w in graph[u]:
            if dist[v] is None or d + w < dist[v]:
                dist[v] = d + w
                heapq.heappush(heap, (dist[v], v))
    return dist
