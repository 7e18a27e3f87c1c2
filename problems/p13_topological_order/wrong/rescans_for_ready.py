# expect: complexity_mismatch O(n^2)
def topological_order(n, edges):
    indegree = [0] * n
    successors = [[] for _ in range(n)]
    for u, v in edges:
        if not (0 <= u < n and 0 <= v < n):
            raise ValueError("bad edge")
        successors[u].append(v)
        indegree[v] += 1
    placed = [False] * n
    order = []
    for _ in range(n):
        node = next((i for i in range(n) if not placed[i] and indegree[i] == 0), None)
        if node is None:
            raise ValueError("cycle")
        placed[node] = True
        order.append(node)
        for successor in successors[node]:
            indegree[successor] -= 1
    return order
