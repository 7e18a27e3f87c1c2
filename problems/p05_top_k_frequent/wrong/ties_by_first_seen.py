# expect: wrong_answer
from collections import Counter


def top_k_frequent(words, k):
    if k < 0:
        raise ValueError("k must not be negative")
    return [word for word, _ in Counter(words).most_common(k)]
