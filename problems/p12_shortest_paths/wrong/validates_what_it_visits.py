# expect: wrong_answer
import heapq


def shortest_paths(n, edges, source):
    # Checks an edge only when the search reaches it, and trusts the source.
    neighbours = [[] for _ in range(n)]
    for u, v, weight in edges:
        if 0 <= u < n:
            neighbours[u].append((v, weight))
    distance = [None] * n
    distance[source] = 0
    frontier = [(0, source)]
    while frontier:
        length, node = heapq.heappop(frontier)
        if length > distance[node]:
            continue
        for neighbour, weight in neighbours[node]:
            if weight < 0 or not 0 <= neighbour < n:
                raise ValueError("bad edge")
            candidate = length + weight
            if distance[neighbour] is None or candidate < distance[neighbour]:
                distance[neighbour] = candidate
                heapq.heappush(frontier, (candidate, neighbour))
    return distance
