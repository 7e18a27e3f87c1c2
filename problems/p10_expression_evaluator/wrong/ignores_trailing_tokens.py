# expect: wrong_answer
# Never checks that the parse used every token: "1 2" gives 1 and "(1 + 2))" gives 3.
def evaluate(expression):
    tokens = _tokenize(expression)
    position = 0

    def peek():
        return tokens[position] if position < len(tokens) else None

    def take():
        nonlocal position
        token = peek()
        if token is None:
            raise ValueError("unexpected end of expression")
        position += 1
        return token

    def sum_level():
        value = product_level()
        while peek() in ("+", "-"):
            if take() == "+":
                value = value + product_level()
            else:
                value = value - product_level()
        return value

    def product_level():
        value = unary_level()
        while peek() in ("*", "/"):
            if take() == "*":
                value = value * unary_level()
            else:
                value = value / unary_level()
        return value

    def unary_level():
        if peek() == "-":
            take()
            return -unary_level()
        token = take()
        if token == "(":
            value = sum_level()
            if take() != ")":
                raise ValueError("expected )")
            return value
        if isinstance(token, int):
            return token
        raise ValueError(f"unexpected {token!r}")

    if not tokens:
        raise ValueError("empty expression")
    return sum_level()


def _tokenize(expression):
    tokens = []
    index = 0
    while index < len(expression):
        char = expression[index]
        if char == " ":
            index += 1
        elif char.isdigit() and char.isascii():
            start = index
            while index < len(expression) and expression[index].isdigit() and expression[index].isascii():
                index += 1
            tokens.append(int(expression[start:index]))
        elif char in "+-*/()":
            if char == "*" and expression[index + 1 : index + 2] == "*":
                raise ValueError("** is not supported")
            tokens.append(char)
            index += 1
        else:
            raise ValueError(f"unexpected character {char!r}")
    return tokens
