# expect: wrong_answer
# Off by one at the left edge: `while left > 0` never compares the first
# character, so a palindrome that starts the string is cut short.
def longest_palindrome(text):
    if not text:
        return ""
    best_start, best_length = 0, 1
    for center in range(2 * len(text) - 1):
        left = center // 2
        right = left + center % 2
        while left > 0 and right < len(text) and text[left] == text[right]:
            left -= 1
            right += 1
        length = right - left - 1
        if length > best_length:
            best_start, best_length = left + 1, length
    return text[best_start : best_start + best_length]
