# CPython's own recursion limit stops it first.
# expect: status=exited exit_code=1 stderr~RecursionError
def depth(n):
    return 0 if n == 0 else 1 + depth(n - 1)

print(depth(10**6))
