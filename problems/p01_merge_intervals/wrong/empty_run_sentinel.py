# expect: wrong_answer
# Starts from an "empty" run (0, -1), assuming coordinates are never negative: an
# interval starting at or below -1 is merged into the phantom run.
def merge_intervals(intervals):
    merged = []
    run_start, run_end = 0, -1
    for start, end in sorted(intervals):
        if start <= run_end:
            run_end = max(run_end, end)
        else:
            if run_end >= run_start:
                merged.append((run_start, run_end))
            run_start, run_end = start, end
    if run_end >= run_start:
        merged.append((run_start, run_end))
    return merged
