# expect: out_of_fuel
# Exponential: even the 9-character tests exhaust the fuel budget.
def edit_distance(source, target):
    if not source:
        return len(target)
    if not target:
        return len(source)
    if source[0] == target[0]:
        return edit_distance(source[1:], target[1:])
    return 1 + min(
        edit_distance(source[1:], target),
        edit_distance(source, target[1:]),
        edit_distance(source[1:], target[1:]),
    )
