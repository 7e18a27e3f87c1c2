# expect: complexity_mismatch O(n^2)
class TaskQueue:
    def __init__(self):
        self._tasks = {}
        self._clock = 0

    def add(self, name, priority):
        self._clock += 1
        self._tasks.pop(name, None)
        self._tasks[name] = (priority, -self._clock)

    def pop(self):
        if not self._tasks:
            raise IndexError("empty")
        name = max(self._tasks, key=self._tasks.__getitem__)
        del self._tasks[name]
        return name

    def remove(self, name):
        del self._tasks[name]

    def __len__(self):
        return len(self._tasks)
