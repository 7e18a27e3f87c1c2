# expect: wrong_answer
# "Infinity" is sys.maxsize, so a path longer than 2**63 - 1 is never shorter
# than it: the node comes back as unreachable.
import heapq
import sys


def shortest_paths(n, edges, source):
    if not 0 <= source < n:
        raise ValueError("source is not a node")
    INF = sys.maxsize
    graph = [[] for _ in range(n)]
    for u, v, w in edges:
        if not (0 <= u < n and 0 <= v < n) or w < 0:
            raise ValueError("bad edge")
        graph[u].append((v, w))
    dist = [INF] * n
    dist[source] = 0
    heap = [(0, source)]
    while heap:
        d, u = heapq.heappop(heap)
        if d > dist[u]:
            continue
        for v, w in graph[u]:
            if d + w < dist[v]:
                dist[v] = d + w
                heapq.heappush(heap, (dist[v], v))
    return [None if d == INF else d for d in dist]
