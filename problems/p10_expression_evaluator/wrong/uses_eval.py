# expect: wrong_answer
def evaluate(expression):
    if not expression.strip():
        raise ValueError("empty")
    try:
        return eval(expression, {"__builtins__": {}})
    except SyntaxError as error:
        raise ValueError(str(error)) from None
