# expect: wrong_answer
from collections import Counter


def top_k_frequent(words, k):
    if not words:
        return []
    if k < 0:
        raise ValueError("k must not be negative")
    counts = Counter(words)
    return sorted(counts, key=lambda word: (-counts[word], word))[:k]
