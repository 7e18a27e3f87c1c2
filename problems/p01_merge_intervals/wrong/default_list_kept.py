# expect: wrong_answer
# A mutable default argument collects the result: every call after the first
# returns the earlier calls' intervals too.
def merge_intervals(intervals, merged=[]):
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return list(merged)
