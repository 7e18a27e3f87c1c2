# problem: p01_merge_intervals
# expect: wrong_answer
# detail: got 'no hook ran', want
# Adds an audit hook of its own to watch the harness; it is refused without
# a word (sys.addaudithook swallows a refusal), so it never runs.
import sys

seen = []
sys.addaudithook(lambda event, args: seen.append(event))
import json  # noqa: E402,F401  (an import is an audited event)


def merge_intervals(intervals):
    return "no hook ran" if not seen else seen
