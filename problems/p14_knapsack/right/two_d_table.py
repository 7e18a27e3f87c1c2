def knapsack(capacity: int, items: list[tuple[int, int]]) -> int:
    if capacity < 0:
        raise ValueError("negative capacity")
    for weight, value in items:
        if weight < 1 or value < 0:
            raise ValueError("invalid item")
    n = len(items)
    table = [[0] * (capacity + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        weight, value = items[i - 1]
        for room in range(capacity + 1):
            table[i][room] = table[i - 1][room]
            if weight <= room and table[i - 1][room - weight] + value > table[i][room]:
                table[i][room] = table[i - 1][room - weight] + value
    return table[n][capacity]
