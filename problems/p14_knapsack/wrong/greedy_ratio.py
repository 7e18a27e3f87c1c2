# expect: wrong_answer
def knapsack(capacity, items):
    if capacity < 0:
        raise ValueError("capacity must not be negative")
    total = 0
    for weight, value in sorted(items, key=lambda item: item[1] / item[0], reverse=True):
        if weight <= capacity:
            capacity -= weight
            total += value
    return total
