# expect: wrong_answer
# Compares characters ignoring case ("Abba" counts), where the prompt compares
# code point by code point.
def longest_palindrome(text):
    folded = text.lower()
    best_start, best_length = 0, 0
    for center in range(2 * len(text) - 1):
        left = center // 2
        right = left + center % 2
        while left >= 0 and right < len(text) and folded[left] == folded[right]:
            left -= 1
            right += 1
        length = right - left - 1
        if length > best_length:
            best_start, best_length = left + 1, length
    return text[best_start : best_start + best_length]
