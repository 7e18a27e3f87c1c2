# expect: wrong_answer
# Checks `weight < 0` instead of `weight < 1`: an item of weight 0 is taken
# for free instead of raising ValueError.
def knapsack(capacity, items):
    if capacity < 0:
        raise ValueError("capacity must not be negative")
    best = [0] * (capacity + 1)
    for weight, value in items:
        if weight < 0 or value < 0:
            raise ValueError("bad item")
        for room in range(capacity, weight - 1, -1):
            best[room] = max(best[room], best[room - weight] + value)
    return best[capacity]
