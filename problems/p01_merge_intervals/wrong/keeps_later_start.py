# expect: wrong_answer
# Merging an overlapping interval takes its start instead of keeping the run's start.
def merge_intervals(intervals):
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (start, max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
