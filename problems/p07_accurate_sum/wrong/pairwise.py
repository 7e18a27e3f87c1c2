# expect: numerical_instability
# Pairwise (cascade) summation: error grows like log n, but cancellation still loses.
def accurate_sum(values):
    def pairwise(lo, hi):
        if hi - lo <= 2:
            return sum(values[lo:hi], 0.0)
        mid = (lo + hi) // 2
        return pairwise(lo, mid) + pairwise(mid, hi)

    return float(pairwise(0, len(values)))
