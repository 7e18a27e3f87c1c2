# expect: wrong_answer
# Top-down with a memo as a mutable default argument: the memo, keyed by
# (item index, room), outlives the call, so a later call with other items
# reads answers computed for earlier ones.
def knapsack(capacity, items, memo={}):
    if capacity < 0:
        raise ValueError("capacity must not be negative")
    for weight, value in items:
        if weight < 1 or value < 0:
            raise ValueError("bad item")

    def best(i, room):
        if i == len(items):
            return 0
        if (i, room) in memo:
            return memo[(i, room)]
        weight, value = items[i]
        result = best(i + 1, room)
        if weight <= room:
            result = max(result, value + best(i + 1, room - weight))
        memo[(i, room)] = result
        return result

    return best(0, capacity)
