# expect: complexity_mismatch O(n^2)
def top_k_frequent(words, k):
    if k < 0:
        raise ValueError("k must not be negative")
    distinct = sorted(set(words))
    counts = {word: words.count(word) for word in distinct}
    return sorted(distinct, key=lambda word: (-counts[word], word))[:k]
