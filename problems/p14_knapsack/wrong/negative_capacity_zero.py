# expect: wrong_answer
def knapsack(capacity, items):
    if capacity < 0:
        return 0
    best = [0] * (capacity + 1)
    for weight, value in items:
        if weight < 1 or value < 0:
            raise ValueError(f"bad item {(weight, value)}")
        for room in range(capacity, weight - 1, -1):
            candidate = best[room - weight] + value
            if candidate > best[room]:
                best[room] = candidate
    return best[capacity]
