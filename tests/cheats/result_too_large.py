# problem: p09_edit_distance
# expect: wrong_answer
# detail: a result larger than 16 MiB
def edit_distance(source, target):
    return "x" * (20 << 20)
