# The guest has no "/" at all, only the standard library under /usr/local/lib.
# expect: status=exited exit_code=1 stderr~PermissionError stdout!~proc
import os
print(os.listdir("/"))
