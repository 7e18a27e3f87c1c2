# expect: wrong_answer
# Normalises both strings to NFC first: a precomposed e-acute and e followed by
# a combining acute become equal, but by code point they differ.
import unicodedata


def edit_distance(source, target):
    source = unicodedata.normalize("NFC", source)
    target = unicodedata.normalize("NFC", target)
    previous = list(range(len(target) + 1))
    for i, source_char in enumerate(source, start=1):
        current = [i] + [0] * len(target)
        for j, target_char in enumerate(target, start=1):
            current[j] = min(
                previous[j] + 1,
                current[j - 1] + 1,
                previous[j - 1] + (source_char != target_char),
            )
        previous = current
    return previous[-1]
