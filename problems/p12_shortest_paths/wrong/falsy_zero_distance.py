# expect: wrong_answer
# Tests "not reached yet" with `not distance[v]`, so a distance of 0 (the
# source itself, or a node behind zero-weight edges) counts as unset and is
# overwritten by any longer path into it.
import heapq


def shortest_paths(n, edges, source):
    if not 0 <= source < n:
        raise ValueError("source is not a node")
    neighbours = [[] for _ in range(n)]
    for u, v, weight in edges:
        if not (0 <= u < n and 0 <= v < n):
            raise ValueError("node out of range")
        if weight < 0:
            raise ValueError("negative weight")
        neighbours[u].append((v, weight))
    distance = [None] * n
    distance[source] = 0
    frontier = [(0, source)]
    done = [False] * n
    while frontier:
        length, node = heapq.heappop(frontier)
        if done[node]:
            continue
        done[node] = True
        for neighbour, weight in neighbours[node]:
            candidate = length + weight
            if not distance[neighbour] or candidate < distance[neighbour]:
                distance[neighbour] = candidate
                heapq.heappush(frontier, (candidate, neighbour))
    return distance
