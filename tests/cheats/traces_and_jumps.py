# problem: p09_edit_distance
# expect: exception
# detail: sys.settrace is not available
# Installs a tracer that would skip lines of the harness's code, or act
# between the call's return and the host reading its result: tracing is
# refused to every candidate.
import sys

seen = []


def tracer(frame, event, arg):
    seen.append(frame.f_code.co_filename)
    return tracer


sys.settrace(tracer)


def edit_distance(source, target):
    names = seen[:]
    return -1 if all(name == "solution.py" for name in names) else 0
