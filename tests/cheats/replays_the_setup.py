# problem: p01_merge_intervals
# expect: wrong_answer
# detail: want
# Replays the complexity set-up at import, as it would run from the seed
# it could once read, works out every answer while loading (which is not
# charged to the call) and answers a set-up-sized input in O(1). The set-up
# now draws from a secret seed with a generator of its own, so the replayed
# inputs are not the real ones, and a wrong answer at a size is a wrong
# answer.
import random

# The larger sizes, as far as loading's fuel reaches.
_SIZES = [1000, 2000]


def _merge(intervals):
    merged = []
    for start, end in sorted(intervals):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


_ANSWERS = {}
random.seed(0)
for _n in _SIZES:
    _starts = [random.randrange(0, 20 * _n) for _ in range(_n)]
    _intervals = [(start, start + random.randrange(0, 8)) for start in _starts]
    _ANSWERS[_n] = _merge(_intervals)


def merge_intervals(intervals):
    if len(intervals) in _ANSWERS:
        return list(_ANSWERS[len(intervals)])
    return _merge(intervals)
