# problem: p01_merge_intervals
# expect: exception
# detail: sys.setprofile is not available
# Returns a right answer while leaving its input as it was, and installs a
# profile hook that sorts the caller's list at the first Python event after
# the call, before the host reads the inputs again. Profile and trace hooks
# are refused to every candidate.
import sys

_pending = []


def _hook(frame, event, arg):
    while _pending:
        _pending.pop().sort()


sys.setprofile(_hook)


def merge_intervals(intervals):
    _pending.append(intervals)
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
