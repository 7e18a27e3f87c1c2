import heapq


def merge_intervals(intervals):
    heap = list(intervals)
    heapq.heapify(heap)
    result = []
    while heap:
        start, end = heapq.heappop(heap)
        while heap and heap[0][0] <= end:
            _, other_end = heapq.heappop(heap)
            end = max(end, other_end)
        result.append((start, end))
    return result
