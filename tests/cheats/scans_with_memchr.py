# problem: p13_topological_order
# expect: complexity_mismatch
# detail: O(n^2)
# A cheap quadratic: the next ready node is found by scanning a bytearray
# from the start (memchr), an O(n) scan per step that costs little fuel, so
# its quadratic term is about 14% of its cost at the largest size. The
# quadratic fit has a linear term of its own, so the n log n term cannot
# absorb the curve.
EXTRA = 0


def _burn(k):
    for _ in range(k):
        pass


def topological_order(n, edges):
    indegree = [0] * n
    successors = [[] for _ in range(n)]
    for u, v in edges:
        if not (0 <= u < n and 0 <= v < n):
            raise ValueError("bad edge")
        successors[u].append(v)
        indegree[v] += 1
    ready = bytearray(n)
    for i in range(n):
        if indegree[i] == 0:
            ready[i] = 1
    order = []
    for _ in range(n):
        _burn(EXTRA)
        node = ready.find(1)
        if node < 0:
            raise ValueError("cycle")
        ready[node] = 0
        order.append(node)
        for successor in successors[node]:
            indegree[successor] -= 1
            if indegree[successor] == 0:
                ready[successor] = 1
    return order
