# problem: p01_merge_intervals
# expect: wrong_answer
# detail: got [], want
# Replaces every function of the in-guest runner and a few builtins the old
# harness compared with, at import time.
import builtins

import fuelbench_runner

for name in dir(fuelbench_runner):
    if callable(getattr(fuelbench_runner, name)) and not name.startswith("__"):
        setattr(fuelbench_runner, name, lambda *args, **kwargs: True)
fuelbench_runner._matches = fuelbench_runner._close = fuelbench_runner._run_case = lambda *a: True
builtins.isinstance = lambda *args: True
builtins.len = lambda *args: 0


def merge_intervals(intervals):
    return []
