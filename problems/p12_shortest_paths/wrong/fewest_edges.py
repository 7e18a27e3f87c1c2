# expect: wrong_answer
from collections import deque


def shortest_paths(n, edges, source):
    if not 0 <= source < n:
        raise ValueError("source is not a node")
    neighbours = [[] for _ in range(n)]
    for u, v, weight in edges:
        if not (0 <= u < n and 0 <= v < n) or weight < 0:
            raise ValueError("bad edge")
        neighbours[u].append((v, weight))
    distance = [None] * n
    distance[source] = 0
    queue = deque([source])
    while queue:
        node = queue.popleft()
        for neighbour, weight in neighbours[node]:
            if distance[neighbour] is None:
                distance[neighbour] = distance[node] + weight
                queue.append(neighbour)
    return distance
