# expect: wrong_answer
# Each row starts at 0 instead of i: deleting a prefix of the source costs
# nothing, and an empty target gives 0.
def edit_distance(source, target):
    previous = list(range(len(target) + 1))
    for source_char in source:
        current = [0] * (len(target) + 1)
        for j, target_char in enumerate(target, start=1):
            current[j] = min(
                previous[j] + 1,
                current[j - 1] + 1,
                previous[j - 1] + (source_char != target_char),
            )
        previous = current
    return previous[-1]
