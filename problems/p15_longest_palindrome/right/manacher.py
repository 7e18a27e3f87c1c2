def longest_palindrome(text):
    """Manacher's algorithm: O(n)."""
    if not text:
        return ""
    t = ["#"]
    for ch in text:
        t.append(ch)
        t.append("#")
    n = len(t)
    radius = [0] * n
    center = right = 0
    for i in range(n):
        if i < right:
            radius[i] = min(right - i, radius[2 * center - i])
        while (
            i - radius[i] - 1 >= 0
            and i + radius[i] + 1 < n
            and t[i - radius[i] - 1] == t[i + radius[i] + 1]
        ):
            radius[i] += 1
        if i + radius[i] > right:
            center, right = i, i + radius[i]
    best_len, best_start = 0, 0
    for i, r in enumerate(radius):
        start = (i - r) // 2
        if r > best_len or (r == best_len and start < best_start):
            best_len, best_start = r, start
    return text[best_start : best_start + best_len]
