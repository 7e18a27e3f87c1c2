# problem: p01_merge_intervals
# expect: exception
# detail: SystemExit
def merge_intervals(intervals):
    raise SystemExit(0)
