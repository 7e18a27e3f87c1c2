# expect: wrong_answer
# The "reverse the graph, take the largest ready node, reverse the result"
# trick: it puts each small label as early as it can go (the smallest labels
# first in priority), which is not the lexicographically smallest order.
import heapq


def topological_order(n, edges):
    predecessors = [[] for _ in range(n)]
    outdegree = [0] * n
    for u, v in edges:
        if not (0 <= u < n and 0 <= v < n):
            raise ValueError("node out of range")
        predecessors[v].append(u)
        outdegree[u] += 1
    ready = [-node for node in range(n) if outdegree[node] == 0]
    heapq.heapify(ready)
    backwards = []
    while ready:
        node = -heapq.heappop(ready)
        backwards.append(node)
        for before in predecessors[node]:
            outdegree[before] -= 1
            if outdegree[before] == 0:
                heapq.heappush(ready, -before)
    if len(backwards) < n:
        raise ValueError("cycle")
    return backwards[::-1]
