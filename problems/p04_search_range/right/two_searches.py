def search_range(values: list[int], target: int) -> tuple[int, int]:
    def boundary(leftmost: bool) -> int:
        found = -1
        lo, hi = 0, len(values) - 1
        while lo <= hi:
            mid = lo + (hi - lo) // 2
            if values[mid] == target:
                found = mid
                if leftmost:
                    hi = mid - 1
                else:
                    lo = mid + 1
            elif values[mid] < target:
                lo = mid + 1
            else:
                hi = mid - 1
        return found

    first = boundary(True)
    if first == -1:
        return (-1, -1)
    return (first, boundary(False))
