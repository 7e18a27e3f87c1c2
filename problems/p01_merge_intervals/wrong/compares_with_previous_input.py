# expect: wrong_answer
# Checks overlap against the previous interval of the sorted input, not against the
# merged run, so an interval inside a long run after a short one starts a new run.
def merge_intervals(intervals):
    ordered = sorted(intervals)
    merged = []
    for index, (start, end) in enumerate(ordered):
        if index and start <= ordered[index - 1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged
