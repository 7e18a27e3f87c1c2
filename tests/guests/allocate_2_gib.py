# 2 GiB in 64 MiB pieces: wasm32 cannot index one 2 GiB object (OverflowError),
# so the pieces make the guest really grow its memory until the cap says no.
# limits: memory_mib=256
# expect: status=memory_exceeded exit_code=1 stderr~MemoryError
chunks = [bytearray(64 << 20) for _ in range(32)]
print(sum(len(chunk) for chunk in chunks))
