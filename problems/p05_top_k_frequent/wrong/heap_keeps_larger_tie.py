# expect: wrong_answer
# A min-heap of size k on (count, word): among words tied at the k-th place it
# pops the alphabetically smaller one and keeps the larger.
import heapq
from collections import Counter


def top_k_frequent(words, k):
    if k < 0:
        raise ValueError("k must not be negative")
    heap = []
    for word, count in Counter(words).items():
        heapq.heappush(heap, (count, word))
        if len(heap) > k:
            heapq.heappop(heap)
    return [word for _, word in sorted(heap, key=lambda item: (-item[0], item[1]))]
