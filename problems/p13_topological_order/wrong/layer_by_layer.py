# expect: wrong_answer
# Kahn's algorithm in rounds: all nodes ready now, sorted, then all nodes
# that became ready, sorted. A node freed early waits behind the whole
# round, so the order is not the lexicographically smallest.
def topological_order(n, edges):
    successors = [[] for _ in range(n)]
    indegree = [0] * n
    for u, v in edges:
        if not (0 <= u < n and 0 <= v < n):
            raise ValueError("node out of range")
        successors[u].append(v)
        indegree[v] += 1
    layer = sorted(node for node in range(n) if indegree[node] == 0)
    order = []
    while layer:
        order.extend(layer)
        following = []
        for node in layer:
            for successor in successors[node]:
                indegree[successor] -= 1
                if indegree[successor] == 0:
                    following.append(successor)
        layer = sorted(following)
    if len(order) < n:
        raise ValueError("cycle")
    return order
