# problem: p13_topological_order
# expect: exception
# detail: Claims: the edges contain a cycle
# Raises a class whose metaclass makes its __mro__ list ValueError although
# it does not derive from it.
import heapq


class Lying(type):
    def mro(cls):
        return [cls, ValueError, Exception, BaseException, object]


class Claims(Exception, metaclass=Lying):
    pass


def topological_order(n, edges):
    successors = [[] for _ in range(n)]
    indegree = [0] * n
    for u, v in edges:
        if not (0 <= u < n and 0 <= v < n):
            raise Claims(f"edge {(u, v)} names a node outside 0..{n - 1}")
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
        raise Claims("the edges contain a cycle")
    return order
