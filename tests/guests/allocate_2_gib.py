# limits: memory_mib=256
# expect: status=memory_exceeded exit_code=1 stderr~MemoryError
data = bytearray(2 * 1024**3)
print(len(data))
