# expect: complexity_mismatch O(n^2)
def evaluate(expression):
    text = expression

    def skip():
        nonlocal text
        text = text.lstrip(" ")

    def number():
        nonlocal text
        skip()
        digits = ""
        while text and "0" <= text[0] <= "9":
            digits += text[0]
            text = text[1:]
        if not digits:
            raise ValueError("expected a number")
        return int(digits)

    def unary():
        nonlocal text
        skip()
        if text.startswith("-"):
            text = text[1:]
            return -unary()
        if text.startswith("("):
            text = text[1:]
            value = total()
            skip()
            if not text.startswith(")"):
                raise ValueError("expected )")
            text = text[1:]
            return value
        return number()

    def product():
        nonlocal text
        value = unary()
        while True:
            skip()
            if text.startswith("**"):
                raise ValueError("**")
            if text.startswith("*"):
                text = text[1:]
                value = value * unary()
            elif text.startswith("/"):
                text = text[1:]
                value = value / unary()
            else:
                return value

    def total():
        nonlocal text
        value = product()
        while True:
            skip()
            if text.startswith("+"):
                text = text[1:]
                value = value + product()
            elif text.startswith("-"):
                text = text[1:]
                value = value - product()
            else:
                return value

    if not expression.strip():
        raise ValueError("empty")
    result = total()
    skip()
    if text:
        raise ValueError(f"unexpected {text[0]!r}")
    return result
