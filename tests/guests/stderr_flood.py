# expect: status=output_overflow stderr_len=262144
import sys
while True:
    sys.stderr.write("e" * 1000)
