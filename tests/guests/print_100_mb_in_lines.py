# expect: status=output_overflow stdout_len=1048576
line = "y" * 99
for _ in range(1_000_000):
    print(line)
