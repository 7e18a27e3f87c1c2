# expect: wrong_answer
# Uses -sys.maxsize - 1 as "before every interval", as if ints were 64-bit: an
# interval starting at or below -2**63 is swallowed by the sentinel.
import sys


def merge_intervals(intervals):
    merged = []
    run_start, run_end = None, -sys.maxsize - 1
    for start, end in sorted(intervals):
        if start <= run_end:
            run_end = max(run_end, end)
        else:
            if run_start is not None:
                merged.append((run_start, run_end))
            run_start, run_end = start, end
    if run_start is not None:
        merged.append((run_start, run_end))
    return merged
