# expect: wrong_answer
# Off by one in the inner loop: `range(capacity, weight, -1)` never tries an
# item in a room of exactly its own weight.
def knapsack(capacity, items):
    if capacity < 0:
        raise ValueError("capacity must not be negative")
    best = [0] * (capacity + 1)
    for weight, value in items:
        if weight < 1 or value < 0:
            raise ValueError("bad item")
        for room in range(capacity, weight, -1):
            best[room] = max(best[room], best[room - weight] + value)
    return best[capacity]
