# expect: status=exited exit_code=1 stderr~Error stdout!~bin
import subprocess
print(subprocess.run(["ls", "/"], capture_output=True).stdout)
