# expect: exception
# Copies the weight check onto the value: `value < 1` rejects an item worth 0.
def knapsack(capacity, items):
    if capacity < 0:
        raise ValueError("capacity must not be negative")
    best = [0] * (capacity + 1)
    for weight, value in items:
        if weight < 1 or value < 1:
            raise ValueError("bad item")
        for room in range(capacity, weight - 1, -1):
            best[room] = max(best[room], best[room - weight] + value)
    return best[capacity]
