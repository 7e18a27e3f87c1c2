# expect: complexity_mismatch O(n^2)
def shortest_paths(n, edges, source):
    if not 0 <= source < n:
        raise ValueError("source is not a node")
    for u, v, weight in edges:
        if not (0 <= u < n and 0 <= v < n) or weight < 0:
            raise ValueError("bad edge")
    distance = [None] * n
    distance[source] = 0
    for _ in range(n - 1):
        changed = False
        for u, v, weight in edges:
            if distance[u] is not None and (distance[v] is None or distance[u] + weight < distance[v]):
                distance[v] = distance[u] + weight
                changed = True
        if not changed:
            break
    return distance
