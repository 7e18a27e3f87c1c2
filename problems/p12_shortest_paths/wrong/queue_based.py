# expect: complexity_mismatch O(n^2)
# A queue-based search (SPFA, Bellman-Ford with a queue): right answers,
# O(n m) in the worst case, which a hub offered better distances later and
# later reaches.
from collections import deque


def shortest_paths(n, edges, source):
    if not 0 <= source < n:
        raise ValueError("source out of range")
    adjacency = [[] for _ in range(n)]
    for u, v, w in edges:
        if not (0 <= u < n and 0 <= v < n):
            raise ValueError("node out of range")
        if w < 0:
            raise ValueError("negative weight")
        adjacency[u].append((v, w))
    distance = [None] * n
    distance[source] = 0
    queue = deque([source])
    queued = [False] * n
    queued[source] = True
    while queue:
        u = queue.popleft()
        queued[u] = False
        du = distance[u]
        for v, w in adjacency[u]:
            if distance[v] is None or du + w < distance[v]:
                distance[v] = du + w
                if not queued[v]:
                    queued[v] = True
                    queue.append(v)
    return distance
