# expect: status=exited exit_code=1 stderr~ModuleNotFoundError
import ctypes
print(ctypes.CDLL(None))
