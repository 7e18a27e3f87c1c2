# expect: status=output_overflow stdout_len=1048576
print("x" * 100_000_000)
