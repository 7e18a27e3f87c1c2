# problem: p01_merge_intervals
# expect: exited
# detail: the candidate ended the process with status 0
# Ends the interpreter from inside the call, with a "success" status.
import os


def merge_intervals(intervals):
    os._exit(0)
