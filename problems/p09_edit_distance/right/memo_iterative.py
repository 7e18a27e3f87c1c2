

def edit_distance(source, target):
    # Keep the shorter string as the row, and memoise row by row.
    if len(target) > len(source):
        source, target = target, source
    row = list(range(len(target) + 1))
    for i, a in enumerate(source):
        diagonal, row[0] = row[0], i + 1
        for j, b in enumerate(target):
            above = row[j + 1]
            row[j + 1] = min(above + 1, row[j] + 1, diagonal + (a != b))
            diagonal = above
    return row[-1]
