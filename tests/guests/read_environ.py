# expect: status=exited exit_code=0 stdout={}\n
import os
print(dict(os.environ))
