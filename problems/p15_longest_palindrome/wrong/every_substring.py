# expect: complexity_mismatch O(n^3)
def longest_palindrome(text):
    best = ""
    for start in range(len(text)):
        for end in range(start + len(best) + 1, len(text) + 1):
            candidate = text[start:end]
            if candidate == candidate[::-1]:
                best = candidate
    return best
