# expect: wrong_answer
from collections import Counter


def top_k_frequent(words, k):
    counts = Counter(words)
    return sorted(counts, key=lambda word: (-counts[word], word))[:k]
