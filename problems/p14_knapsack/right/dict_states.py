def knapsack(capacity, items):
    """Best value for each reachable total weight, never above capacity."""
    if capacity < 0:
        raise ValueError("capacity < 0")
    best = {0: 0}
    for weight, value in items:
        if weight < 1 or value < 0:
            raise ValueError("bad item")
        updates = {}
        for used, total in best.items():
            room = used + weight
            if room <= capacity and total + value > max(best.get(room, -1), updates.get(room, -1)):
                updates[room] = total + value
        best.update(updates)
    return max(best.values())
