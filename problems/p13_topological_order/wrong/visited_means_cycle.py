# expect: exception
# Checks for cycles with a depth-first search that has only "visited" marks,
# so reaching a node twice (two paths into it, a diamond) is taken for a
# cycle and raises ValueError. The order itself is computed correctly.
import heapq


def topological_order(n, edges):
    successors = [[] for _ in range(n)]
    indegree = [0] * n
    for u, v in edges:
        if not (0 <= u < n and 0 <= v < n):
            raise ValueError("node out of range")
        successors[u].append(v)
        indegree[v] += 1
    visited = [False] * n
    for start in range(n):
        if visited[start]:
            continue
        visited[start] = True
        stack = [start]
        while stack:
            node = stack.pop()
            for nxt in successors[node]:
                if visited[nxt]:
                    raise ValueError("cycle")
                visited[nxt] = True
                stack.append(nxt)
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
