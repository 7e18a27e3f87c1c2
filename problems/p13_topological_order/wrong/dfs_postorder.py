# expect: wrong_answer
# Reverse post-order of a depth-first search from the nodes in increasing
# order: a valid topological order, but not the lexicographically smallest.
def topological_order(n, edges):
    successors = [[] for _ in range(n)]
    for u, v in edges:
        if not (0 <= u < n and 0 <= v < n):
            raise ValueError("node out of range")
        successors[u].append(v)
    WHITE, GREY, BLACK = 0, 1, 2
    colour = [WHITE] * n
    order = []
    for start in range(n):
        if colour[start] != WHITE:
            continue
        colour[start] = GREY
        stack = [(start, iter(successors[start]))]
        while stack:
            node, it = stack[-1]
            for nxt in it:
                if colour[nxt] == GREY:
                    raise ValueError("cycle")
                if colour[nxt] == WHITE:
                    colour[nxt] = GREY
                    stack.append((nxt, iter(successors[nxt])))
                    break
            else:
                stack.pop()
                colour[node] = BLACK
                order.append(node)
    return order[::-1]
