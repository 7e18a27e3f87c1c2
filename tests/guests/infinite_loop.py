# limits: fuel=200000000
# expect: status=out_of_fuel
while True:
    pass
