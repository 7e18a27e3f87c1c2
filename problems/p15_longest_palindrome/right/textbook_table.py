def longest_palindrome(text):
    """The textbook O(n^2) table: is_palindrome[i][j] for every substring,
    filled by increasing length."""
    n = len(text)
    if n == 0:
        return ""
    is_palindrome = [[False] * n for _ in range(n)]
    best_start, best_length = 0, 1
    for i in range(n):
        is_palindrome[i][i] = True
    for length in range(2, n + 1):
        for start in range(n - length + 1):
            end = start + length - 1
            if text[start] == text[end] and (length == 2 or is_palindrome[start + 1][end - 1]):
                is_palindrome[start][end] = True
                if length > best_length:
                    best_start, best_length = start, length
    return text[best_start : best_start + best_length]
