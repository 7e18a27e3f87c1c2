# expect: complexity_mismatch O(n log n)
# Sorting first is O(n log n), and small-first order still loses to cancellation.
def accurate_sum(values):
    return float(sum(sorted(values, key=abs)))
