# expect: wrong_answer
def evaluate(expression):
    tokens = expression.replace("(", " ( ").replace(")", " ) ").split()
    if not tokens:
        raise ValueError("empty")
    result = int(tokens[0])
    for op, value in zip(tokens[1::2], tokens[2::2]):
        value = int(value)
        if op == "+":
            result += value
        elif op == "-":
            result -= value
        elif op == "*":
            result *= value
        elif op == "/":
            result /= value
        else:
            raise ValueError(op)
    return result
