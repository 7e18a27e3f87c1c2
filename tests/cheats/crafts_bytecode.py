# problem: p01_merge_intervals
# expect: exception
# detail: code.__new__ is not available
# Builds a code object from raw bytecode: crafted bytecode reads and writes
# arbitrary interpreter memory, where a forged result could be planted.
def template():
    return 0


forged = template.__code__.replace(co_code=b"\x97\x00d\x00S\x00")


def merge_intervals(intervals):
    return []
