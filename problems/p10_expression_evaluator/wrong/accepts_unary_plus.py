# expect: wrong_answer
def evaluate(expression):
    tokens = []
    i = 0
    while i < len(expression):
        ch = expression[i]
        if ch == " ":
            i += 1
        elif ch.isascii() and ch.isdigit():
            j = i
            while j < len(expression) and expression[j].isascii() and expression[j].isdigit():
                j += 1
            tokens.append(int(expression[i:j]))
            i = j
        elif ch in "+-*/()":
            if expression[i : i + 2] == "**":
                raise ValueError("no powers")
            tokens.append(ch)
            i += 1
        else:
            raise ValueError(f"bad character {ch!r}")
    if not tokens:
        raise ValueError("empty")
    at = 0

    def peek():
        return tokens[at] if at < len(tokens) else None

    def take():
        nonlocal at
        if at >= len(tokens):
            raise ValueError("unexpected end")
        at += 1
        return tokens[at - 1]

    def expr():
        value = term()
        while peek() in ("+", "-"):
            value = value + term() if take() == "+" else value - term()
        return value

    def term():
        value = unary()
        while peek() in ("*", "/"):
            value = value * unary() if take() == "*" else value / unary()
        return value

    def unary():
        # Takes a leading + as well as -: the prompt allows only minus.
        if peek() in ("-", "+"):
            sign = take()
            value = unary()
            return -value if sign == "-" else value
        token = take()
        if token == "(":
            value = expr()
            if take() != ")":
                raise ValueError("missing )")
            return value
        if isinstance(token, int):
            return token
        raise ValueError(f"unexpected {token!r}")

    result = expr()
    if peek() is not None:
        raise ValueError("trailing input")
    return result
