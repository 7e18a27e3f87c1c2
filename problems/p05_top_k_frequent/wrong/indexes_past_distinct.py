# expect: exception
from collections import Counter


def top_k_frequent(words, k):
    if k < 0:
        raise ValueError("k must not be negative")
    counts = Counter(words)
    ordered = sorted(counts, key=lambda word: (-counts[word], word))
    return [ordered[i] for i in range(k)]
