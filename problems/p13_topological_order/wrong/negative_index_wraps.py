# expect: wrong_answer
import heapq


def topological_order(n, edges):
    successors = [[] for _ in range(n)]
    indegree = [0] * n
    for u, v in edges:
        if u >= n or v >= n:
            raise ValueError("node out of range")
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
