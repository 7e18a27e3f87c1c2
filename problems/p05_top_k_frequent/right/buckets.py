from collections import Counter, defaultdict


def top_k_frequent(words: list[str], k: int) -> list[str]:
    if k < 0:
        raise ValueError(f"k must be >= 0, got {k}")
    by_count = defaultdict(list)
    for word, count in Counter(words).items():
        by_count[count].append(word)
    result = []
    for count in sorted(by_count, reverse=True):
        for word in sorted(by_count[count]):
            if len(result) == k:
                return result
            result.append(word)
    return result
