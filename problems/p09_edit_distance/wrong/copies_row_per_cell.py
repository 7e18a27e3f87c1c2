# expect: complexity_mismatch O(n^3)
def edit_distance(source, target):
    previous = list(range(len(target) + 1))
    for i, source_char in enumerate(source, start=1):
        current = [i] + [0] * len(target)
        row = current
        for j, target_char in enumerate(target, start=1):
            current[j] = min(
                previous[j] + 1,
                current[j - 1] + 1,
                previous[j - 1] + (source_char != target_char),
            )
            # Belongs after the loop: a copy per cell, not per row.
            row = [cell for cell in current]
        previous = row
    return previous[-1]
