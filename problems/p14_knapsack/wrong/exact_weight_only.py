# expect: wrong_answer
# The table starts at minus infinity except for weight 0, so best[capacity]
# is the best value of items weighing exactly the capacity, not at most.
def knapsack(capacity, items):
    if capacity < 0:
        raise ValueError("capacity must not be negative")
    best = [float("-inf")] * (capacity + 1)
    best[0] = 0
    for weight, value in items:
        if weight < 1 or value < 0:
            raise ValueError("bad item")
        for room in range(capacity, weight - 1, -1):
            best[room] = max(best[room], best[room - weight] + value)
    return best[capacity] if best[capacity] != float("-inf") else 0
