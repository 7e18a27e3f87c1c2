# expect: wrong_answer
# The classic mistake: the longest common substring of the text and its
# reverse, without checking that the two occurrences mirror each other, so
# "abcXYcba" gives "abc".
def longest_palindrome(text):
    reverse = text[::-1]
    n = len(text)
    best_end, best_length = 0, 0
    previous = [0] * (n + 1)
    for i in range(1, n + 1):
        current = [0] * (n + 1)
        for j in range(1, n + 1):
            if text[i - 1] == reverse[j - 1]:
                current[j] = previous[j - 1] + 1
                if current[j] > best_length:
                    best_end, best_length = i, current[j]
        previous = current
    return text[best_end - best_length : best_end]
