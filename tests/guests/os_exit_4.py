# os._exit skips Python's clean-up, so nothing still buffered is flushed.
# expect: status=exited exit_code=4
import os
os._exit(4)
