# expect: wrong_answer
# Expands only around single characters: palindromes of even length
# ("abba") are never found.
def longest_palindrome(text):
    best_start, best_length = 0, 0
    for center in range(len(text)):
        left = right = center
        while left >= 0 and right < len(text) and text[left] == text[right]:
            left -= 1
            right += 1
        length = right - left - 1
        if length > best_length:
            best_start, best_length = left + 1, length
    return text[best_start : best_start + best_length]
