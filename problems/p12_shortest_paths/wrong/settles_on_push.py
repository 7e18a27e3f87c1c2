# expect: wrong_answer
# Marks a node finished when it is first pushed, not when it is popped, so a
# shorter path found later is ignored.
import heapq


def shortest_paths(n, edges, source):
    if not 0 <= source < n:
        raise ValueError("source is not a node")
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
            if dist[v] is None:
                dist[v] = d + w
                heapq.heappush(heap, (dist[v], v))
    return dist
