# expect: status=exited exit_code=1 stderr~SyntaxError
def broken(:
    return 1
