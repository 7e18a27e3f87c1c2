# problem: p01_merge_intervals
# expect: exception
# detail: SystemExit
# SystemExit at import: the old plain-program path read status 0 as success.
import sys

sys.exit(0)
