# expect: wrong_answer
# Sorts (count, word) in reverse to get the most frequent first, which also puts
# tied words in reverse alphabetical order.
from collections import Counter


def top_k_frequent(words, k):
    if k < 0:
        raise ValueError("k must not be negative")
    counts = Counter(words)
    ordered = sorted(counts.items(), key=lambda item: (item[1], item[0]), reverse=True)
    return [word for word, _ in ordered[:k]]
