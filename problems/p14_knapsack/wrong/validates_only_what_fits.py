# expect: wrong_answer
def knapsack(capacity, items):
    if capacity < 0:
        raise ValueError("negative capacity")
    if capacity == 0:
        return 0
    best = [0] * (capacity + 1)
    for weight, value in items:
        if weight > capacity:
            continue
        if weight < 1 or value < 0:
            raise ValueError("bad item")
        for room in range(capacity, weight - 1, -1):
            best[room] = max(best[room], best[room - weight] + value)
    return best[capacity]
