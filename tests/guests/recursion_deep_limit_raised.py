# With the limit raised, Python frames live on the heap: the memory cap ends it.
# limits: memory_mib=64
# expect: status=memory_exceeded
import sys
sys.setrecursionlimit(10**7)

def depth(n):
    return 0 if n == 0 else 1 + depth(n - 1)

print(depth(10**6))
