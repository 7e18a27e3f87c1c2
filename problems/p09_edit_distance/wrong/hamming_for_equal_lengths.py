# expect: wrong_answer
# Shortcut: strings of equal length are compared position by position (the
# Hamming distance), but "abcd" -> "bcda" takes 2 edits, not 4.
def edit_distance(source, target):
    if len(source) == len(target):
        return sum(a != b for a, b in zip(source, target))
    previous = list(range(len(target) + 1))
    for i, source_char in enumerate(source, start=1):
        current = [i] + [0] * len(target)
        for j, target_char in enumerate(target, start=1):
            current[j] = min(
                previous[j] + 1,
                current[j - 1] + 1,
                previous[j - 1] + (source_char != target_char),
            )
        previous = current
    return previous[-1]
