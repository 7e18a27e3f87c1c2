# expect: wrong_answer
# Strips the common prefix and suffix first (a sound speed-up), but measures
# the suffix on the whole strings, so it can overlap the prefix: "aaa" and "a"
# become "a" and "", distance 1 instead of 2.
def edit_distance(source, target):
    shorter = min(len(source), len(target))
    prefix = 0
    while prefix < shorter and source[prefix] == target[prefix]:
        prefix += 1
    suffix = 0
    while suffix < shorter and source[-1 - suffix] == target[-1 - suffix]:
        suffix += 1
    source = source[prefix : len(source) - suffix]
    target = target[prefix : len(target) - suffix]
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
