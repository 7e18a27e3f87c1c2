# expect: wrong_answer
# A shortcut for one interval returns the interval itself, not a list holding it.
def merge_intervals(intervals):
    if len(intervals) == 1:
        return intervals[0]
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged
