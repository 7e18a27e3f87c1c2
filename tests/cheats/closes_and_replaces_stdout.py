# problem: p01_merge_intervals
# expect: wrong_answer
# detail: got None, want
# Closes and replaces the streams the old harness reported through.
import io
import sys

sys.stdout.close()
sys.stdout = io.StringIO()
sys.__stdout__ = sys.stdout
sys.stderr = None


def merge_intervals(intervals):
    print("\x1efuelbench-report {\"load\": \"ok\"}")
    return None
