# expect: complexity_mismatch O(n^2)
# Right answers, but picks the k winners one at a time with min() over the
# remaining counts: O(k d), quadratic when k grows with the vocabulary.
def top_k_frequent(words, k):
    if k < 0:
        raise ValueError("k must not be negative")
    counts = {}
    for word in words:
        counts[word] = counts.get(word, 0) + 1
    result = []
    for _ in range(min(k, len(counts))):
        best = min(counts, key=lambda word: (-counts[word], word))
        result.append(best)
        del counts[best]
    return result
