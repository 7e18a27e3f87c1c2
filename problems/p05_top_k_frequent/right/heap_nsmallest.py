import heapq


def top_k_frequent(words, k):
    if k < 0:
        raise ValueError("negative k")
    counts = {}
    for word in words:
        counts[word] = counts.get(word, 0) + 1
    return [word for _, word in heapq.nsmallest(k, ((-c, w) for w, c in counts.items()))]
