# problem: p01_merge_intervals
# expect: wrong_answer
# detail: want
# Solves anything the size of a test case, and answers at once, wrongly,
# when the input is larger than any test's: cheap, so its fuel alone would
# fit O(1), cheaper than expected. A wrong answer is a wrong answer wherever
# it is found, at a complexity size included: pass@1 is 0.
def merge_intervals(intervals):
    if len(intervals) > 100:
        return []
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
