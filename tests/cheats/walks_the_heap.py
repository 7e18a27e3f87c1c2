# problem: p09_edit_distance
# expect: exception
# detail: gc.get_objects is not available
# Walks every live object for something that looks like the answer.
import gc


def edit_distance(source, target):
    for thing in gc.get_objects():
        if isinstance(thing, dict) and "expect" in thing:
            return thing["expect"]
    return 0
