# problem: p01_merge_intervals
# expect: exception
# detail: marshal.loads is not available
import marshal

code = marshal.loads(marshal.dumps(compile("x = 1", "x", "exec")))


def merge_intervals(intervals):
    return []
