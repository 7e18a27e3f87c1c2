# expect: wrong_answer
# Breaks ties case-insensitively ("alphabetically" read as a dictionary would),
# not by Python's string order, where upper case comes first.
from collections import Counter


def top_k_frequent(words, k):
    if k < 0:
        raise ValueError("k must not be negative")
    counts = Counter(words)
    ordered = sorted(counts, key=lambda word: (-counts[word], word.lower(), word))
    return ordered[:k]
