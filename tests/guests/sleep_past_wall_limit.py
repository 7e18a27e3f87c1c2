# Blocks in the host without burning fuel; the wall clock must still end it.
# limits: wall_ms=300
# expect: status=wall_clock_exceeded fuel=null
import time
time.sleep(3600)
