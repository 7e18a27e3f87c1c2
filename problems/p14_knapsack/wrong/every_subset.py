# expect: complexity_mismatch O(2^n)
from itertools import combinations


def knapsack(capacity, items):
    if capacity < 0:
        raise ValueError("capacity must not be negative")
    if any(weight < 1 or value < 0 for weight, value in items):
        raise ValueError("bad item")
    best = 0
    for size in range(len(items) + 1):
        for chosen in combinations(items, size):
            if sum(weight for weight, _ in chosen) <= capacity:
                best = max(best, sum(value for _, value in chosen))
    return best
