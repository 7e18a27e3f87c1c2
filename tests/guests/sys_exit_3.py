# expect: status=exited exit_code=3 stdout=before\n
import sys
print("before")
sys.exit(3)
print("after")
