# problem: p09_edit_distance
# expect: wrong_answer
# detail: got -1, want
# Installs a tracer that would skip lines of the harness's code; no harness
# code runs in Python after the candidate loads, so it only sees its own.
import sys

seen = []


def tracer(frame, event, arg):
    seen.append(frame.f_code.co_filename)
    return tracer


sys.settrace(tracer)


def edit_distance(source, target):
    names = seen[:]
    return -1 if all(name == "solution.py" for name in names) else 0
