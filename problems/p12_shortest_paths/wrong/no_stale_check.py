# expect: complexity_mismatch O(n^2)
# Dijkstra without the stale-entry check: right answers, but a node pushed
# k times relaxes its edges k times, O(n m) where a hub improves many times.
import heapq


def shortest_paths(n, edges, source):
    if not 0 <= source < n:
        raise ValueError("source out of range")
    graph = [[] for _ in range(n)]
    for u, v, w in edges:
        if not (0 <= u < n and 0 <= v < n) or w < 0:
            raise ValueError("bad edge")
        graph[u].append((v, w))
    dist = [None] * n
    dist[source] = 0
    heap = [(0, source)]
    while heap:
        d, u = heapq.heappop(heap)
        for v, w in graph[u]:
            nd = d + w
            if dist[v] is None or nd < dist[v]:
                dist[v] = nd
                heapq.heappush(heap, (nd, v))
    return dist
