import heapq
from itertools import count


class TaskQueue:
    def __init__(self) -> None:
        self._heap: list = []
        self._entries: dict = {}
        self._ticket = count()
        self._dead = 0

    def add(self, name: str, priority: int) -> None:
        if name in self._entries:
            self._kill(name)
        entry = (-priority, next(self._ticket), name)
        self._entries[name] = entry
        heapq.heappush(self._heap, entry)

    def _kill(self, name):
        del self._entries[name]
        self._dead += 1
        # Rebuild once the dead outnumber the living: amortised O(log n).
        if self._dead > len(self._entries) + 16:
            self._heap = list(self._entries.values())
            heapq.heapify(self._heap)
            self._dead = 0

    def pop(self) -> str:
        while self._heap:
            entry = heapq.heappop(self._heap)
            if self._entries.get(entry[2]) is entry:
                del self._entries[entry[2]]
                return entry[2]
            self._dead -= 1
        raise IndexError("pop from an empty queue")

    def remove(self, name: str) -> None:
        if name not in self._entries:
            raise KeyError(name)
        self._kill(name)

    def __len__(self) -> int:
        return len(self._entries)
