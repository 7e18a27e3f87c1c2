# expect: wrong_answer
# A shortcut for k covering every distinct word returns them alphabetically,
# forgetting that the most frequent must still come first.
from collections import Counter


def top_k_frequent(words, k):
    if k < 0:
        raise ValueError("k must not be negative")
    counts = Counter(words)
    if k >= len(counts):
        return sorted(counts)
    return sorted(counts, key=lambda word: (-counts[word], word))[:k]
