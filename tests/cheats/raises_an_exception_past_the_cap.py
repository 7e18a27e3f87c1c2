# problem: p01_merge_intervals
# expect: wrong_answer
# detail: an exception larger than 16 MiB
# Raises an exception whose arguments encode past the reactor's 16 MiB cap:
# once a host error that stopped a whole run, now the candidate's exception
# in every fixed case. The generated batch's answers cannot be encoded at
# all, which is a wrong answer, and outranks the exceptions.
def merge_intervals(intervals):
    raise ValueError("x" * (17 << 20))
