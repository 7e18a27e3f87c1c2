# expect: exited
# Ends the whole interpreter mid-test; the harness must blame the candidate.
import os
from collections import Counter


def top_k_frequent(words, k):
    if k < 0:
        raise ValueError("k must not be negative")
    counts = Counter(words)
    if len(counts) > 2:
        os._exit(0)
    return sorted(counts, key=lambda word: (-counts[word], word))[:k]
