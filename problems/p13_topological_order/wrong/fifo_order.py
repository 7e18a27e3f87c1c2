# expect: wrong_answer
from collections import deque


def topological_order(n, edges):
    successors = [[] for _ in range(n)]
    indegree = [0] * n
    for u, v in edges:
        if not (0 <= u < n and 0 <= v < n):
            raise ValueError("bad edge")
        successors[u].append(v)
        indegree[v] += 1
    ready = deque(node for node in range(n) if indegree[node] == 0)
    order = []
    while ready:
        node = ready.popleft()
        order.append(node)
        for successor in successors[node]:
            indegree[successor] -= 1
            if indegree[successor] == 0:
                ready.append(successor)
    if len(order) < n:
        raise ValueError("cycle")
    return order
