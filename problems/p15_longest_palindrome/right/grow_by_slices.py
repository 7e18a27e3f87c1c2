def longest_palindrome(text: str) -> str:
    """Each new end can lengthen the best by one or two, and only then."""
    start, best = 0, 0
    for end in range(len(text)):
        for grow in (2, 1):
            first = end - best - grow + 1
            if first < 0:
                continue
            piece = text[first : end + 1]
            if piece == piece[::-1]:
                start, best = first, best + grow
                break
    return text[start : start + best]
