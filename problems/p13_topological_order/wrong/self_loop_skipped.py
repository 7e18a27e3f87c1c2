# expect: wrong_answer
# Skips self-loops as harmless, so a graph whose only cycle is a self-loop
# gets an order instead of a ValueError.
import heapq


def topological_order(n, edges):
    successors = [[] for _ in range(n)]
    indegree = [0] * n
    for u, v in edges:
        if not (0 <= u < n and 0 <= v < n):
            raise ValueError("node out of range")
        if u == v:
            continue
        successors[u].append(v)
        indegree[v] += 1
    ready = [node for node in range(n) if indegree[node] == 0]
    heapq.heapify(ready)
    order = []
    while ready:
        node = heapq.heappop(ready)
        order.append(node)
        for successor in successors[node]:
            indegree[successor] -= 1
            if indegree[successor] == 0:
                heapq.heappush(ready, successor)
    if len(order) < n:
        raise ValueError("cycle")
    return order
