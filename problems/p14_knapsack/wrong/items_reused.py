# expect: wrong_answer
def knapsack(capacity, items):
    if capacity < 0:
        raise ValueError("capacity must not be negative")
    best = [0] * (capacity + 1)
    for weight, value in items:
        for room in range(weight, capacity + 1):
            best[room] = max(best[room], best[room - weight] + value)
    return best[capacity]
