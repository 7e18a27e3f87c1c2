# expect: wrong_answer
# Memoised recursion on (i, j) with the strings in module globals: the cache
# outlives the call, so the next call reads distances of the previous strings.
from functools import lru_cache

_source = _target = ""


@lru_cache(maxsize=None)
def _distance(i, j):
    if i == 0:
        return j
    if j == 0:
        return i
    cost = _source[i - 1] != _target[j - 1]
    return min(_distance(i - 1, j) + 1, _distance(i, j - 1) + 1, _distance(i - 1, j - 1) + cost)


def edit_distance(source, target):
    global _source, _target
    _source, _target = source, target
    return _distance(len(source), len(target))
