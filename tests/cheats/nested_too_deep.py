# problem: p01_merge_intervals
# expect: wrong_answer
# detail: nested more than 100 deep
# A list that contains itself: no finite encoding, and no comparison that
# could hang the host.
def merge_intervals(intervals):
    loop = []
    loop.append(loop)
    return loop
