import re

# Spaces only, and ASCII digits only: the prompt allows nothing else.
_TOKEN = re.compile(r" *(?:([0-9]+)|(.))", re.DOTALL)


class _Parser:
    def __init__(self, text):
        self.tokens = []
        for number, symbol in _TOKEN.findall(text):
            if number:
                self.tokens.append(int(number))
            elif symbol in "+-*/()":
                self.tokens.append(symbol)
            elif symbol != " ":
                raise ValueError(f"bad character {symbol!r}")
        if text.strip() and not self.tokens:
            raise ValueError("nothing to evaluate")
        self.at = 0

    def _peek(self):
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def _next(self):
        token = self._peek()
        if token is None:
            raise ValueError("ran out of input")
        self.at += 1
        return token

    def parse(self):
        if not self.tokens:
            raise ValueError("empty")
        value = self._expression()
        if self._peek() is not None:
            raise ValueError("trailing input")
        return value

    def _expression(self):
        value = self._term()
        while self._peek() in ("+", "-"):
            op = self._next()
            rhs = self._term()
            value = value + rhs if op == "+" else value - rhs
        return value

    def _term(self):
        value = self._factor()
        while self._peek() in ("*", "/"):
            op = self._next()
            if op == "*" and self._peek() == "*":
                raise ValueError("no powers")
            rhs = self._factor()
            value = value * rhs if op == "*" else value / rhs
        return value

    def _factor(self):
        # Unary minus chains without recursion, so 100,000 of them are fine.
        negate = False
        while self._peek() == "-":
            self._next()
            negate = not negate
        token = self._next()
        if token == "(":
            value = self._expression()
            if self._next() != ")":
                raise ValueError("missing )")
        elif isinstance(token, int):
            value = token
        else:
            raise ValueError(f"unexpected {token!r}")
        return -value if negate else value


def evaluate(expression: str):
    return _Parser(expression).parse()
