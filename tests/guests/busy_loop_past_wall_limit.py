# A loop that never runs out of fuel in time; only the wall clock stops it.
# limits: fuel=1000000000000000 wall_ms=300
# expect: status=wall_clock_exceeded fuel=null
x = 0
while True:
    x += 1
