import heapq


def topological_order(n: int, edges: list[tuple[int, int]]) -> list[int]:
    for u, v in edges:
        if u < 0 or v < 0 or u >= n or v >= n:
            raise ValueError(f"bad edge {(u, v)}")
    unique = set(edges)
    successors = {node: [] for node in range(n)}
    incoming = [0] * n
    for u, v in unique:
        successors[u].append(v)
        incoming[v] += 1
    heap = [node for node in range(n) if incoming[node] == 0]
    heapq.heapify(heap)
    result = []
    while heap:
        node = heapq.heappop(heap)
        result.append(node)
        for nxt in successors[node]:
            incoming[nxt] -= 1
            if incoming[nxt] == 0:
                heapq.heappush(heap, nxt)
    if len(result) != n:
        raise ValueError("graph has a cycle")
    return result
