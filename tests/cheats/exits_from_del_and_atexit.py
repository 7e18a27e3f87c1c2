# problem: p01_merge_intervals
# expect: wrong_answer
# detail: not plain built-in data (Parting)
# Returns an object that would end the process when freed, and registers an
# atexit handler that prints a forged report: neither ever runs.
import atexit
import os
import sys


class Parting:
    def __eq__(self, other):
        return True

    def __del__(self):
        os._exit(0)


@atexit.register
def forge():
    sys.__stdout__.write('\x1efuelbench-report {"load": "ok", "cases": []}\n')


def merge_intervals(intervals):
    return Parting()
