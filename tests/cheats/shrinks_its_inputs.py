# problem: p01_merge_intervals
# expect: complexity_mismatch
# detail: O(n^2)
# A quadratic merge that, at import, looks for the prepared complexity input
# among the live objects to empty it, so the measured call does no work.
import gc

try:
    for thing in gc.get_referrers(list) + gc.get_objects():
        if isinstance(thing, list) and len(thing) > 100:
            thing.clear()
except PermissionError:
    pass


def merge_intervals(intervals):
    merged = []
    for start, end in sorted(intervals):
        for index in range(len(merged)):
            if merged[index][1] >= start and merged[index][0] <= end:
                merged[index] = (min(start, merged[index][0]), max(end, merged[index][1]))
                break
        else:
            merged.append((start, end))
    merged.sort()
    result = []
    for start, end in merged:
        if result and start <= result[-1][1]:
            result[-1] = (result[-1][0], max(end, result[-1][1]))
        else:
            result.append((start, end))
    return result
