# expect: wrong_answer
# Tidies the input with `text.strip()` first, so whitespace at either end,
# which is part of the text, is lost.
def longest_palindrome(text):
    text = text.strip()
    best_start, best_length = 0, 0
    for center in range(2 * len(text) - 1):
        left = center // 2
        right = left + center % 2
        while left >= 0 and right < len(text) and text[left] == text[right]:
            left -= 1
            right += 1
        length = right - left - 1
        if length > best_length:
            best_start, best_length = left + 1, length
    return text[best_start : best_start + best_length]
