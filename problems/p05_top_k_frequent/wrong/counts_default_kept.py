# expect: wrong_answer
# A mutable default argument holds the counts: every call adds to the words of
# all the calls before it.
def top_k_frequent(words, k, counts={}):
    if k < 0:
        raise ValueError("k must not be negative")
    for word in words:
        counts[word] = counts.get(word, 0) + 1
    return sorted(counts, key=lambda word: (-counts[word], word))[:k]
