# expect: wrong_answer
# Skips whitespace with str.isspace() and reads numbers with str.isdigit()
# and int(): a tab, a newline, a no-break space or a non-ASCII digit is
# "any other character" and must raise ValueError; this returns a value.
def evaluate(expression):
    tokens = []
    i, s = 0, expression
    while i < len(s):
        c = s[i]
        if c.isspace():
            i += 1
        elif c.isdigit():
            j = i
            while j < len(s) and s[j].isdigit():
                j += 1
            tokens.append(int(s[i:j]))
            i = j
        elif c in "+-*/()":
            if c == "*" and s[i + 1:i + 2] == "*":
                raise ValueError("** is not allowed")
            tokens.append(c)
            i += 1
        else:
            raise ValueError(f"unexpected character {c!r}")
    if not tokens:
        raise ValueError("empty expression")
    pos = 0

    def peek():
        return tokens[pos] if pos < len(tokens) else None

    def take():
        nonlocal pos
        if pos >= len(tokens):
            raise ValueError("unexpected end")
        pos += 1
        return tokens[pos - 1]

    def expr():
        value = term()
        while peek() in ("+", "-"):
            op = take()
            rhs = term()
            value = value + rhs if op == "+" else value - rhs
        return value

    def term():
        value = factor()
        while peek() in ("*", "/"):
            op = take()
            rhs = factor()
            value = value * rhs if op == "*" else value / rhs
        return value

    def factor():
        tok = take()
        if tok == "-":
            return -factor()
        if tok == "(":
            value = expr()
            if take() != ")":
                raise ValueError("expected )")
            return value
        if isinstance(tok, int):
            return tok
        raise ValueError(f"unexpected {tok!r}")

    result = expr()
    if pos != len(tokens):
        raise ValueError("trailing tokens")
    return result
