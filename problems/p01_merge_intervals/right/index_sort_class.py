class _Merger:
    """Sweeps the intervals in start order, growing the current run."""

    def __init__(self, intervals):
        self.order = sorted(range(len(intervals)), key=lambda i: intervals[i])
        self.intervals = intervals

    def merge(self):
        out = []
        current = None
        for index in self.order:
            start, end = self.intervals[index]
            if current is None:
                current = [start, end]
            elif start <= current[1]:
                current[1] = max(current[1], end)
            else:
                out.append((current[0], current[1]))
                current = [start, end]
        if current is not None:
            out.append((current[0], current[1]))
        return out


def merge_intervals(intervals):
    return _Merger(intervals).merge()
