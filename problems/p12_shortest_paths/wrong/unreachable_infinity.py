# expect: wrong_answer
import heapq


def shortest_paths(n, edges, source):
    if not 0 <= source < n:
        raise ValueError("source is not a node")
    neighbours = [[] for _ in range(n)]
    for u, v, weight in edges:
        if not (0 <= u < n and 0 <= v < n):
            raise ValueError(f"edge {(u, v)} names a node outside 0..{n - 1}")
        if weight < 0:
            raise ValueError("negative weight")
        neighbours[u].append((v, weight))
    distance = [None] * n
    distance[source] = 0
    frontier = [(0, source)]
    while frontier:
        length, node = heapq.heappop(frontier)
        if length > distance[node]:
            continue
        for neighbour, weight in neighbours[node]:
            candidate = length + weight
            if distance[neighbour] is None or candidate < distance[neighbour]:
                distance[neighbour] = candidate
                heapq.heappush(frontier, (candidate, neighbour))
    return [float("inf") if d is None else d for d in distance]
