# expect: complexity_mismatch O(n^2)
def merge_intervals(intervals):
    merged = []
    for start, end in intervals:
        overlapping = [m for m in merged if m[0] <= end and start <= m[1]]
        for m in overlapping:
            merged.remove(m)
            start, end = min(start, m[0]), max(end, m[1])
        merged.append((start, end))
    return sorted(merged)
