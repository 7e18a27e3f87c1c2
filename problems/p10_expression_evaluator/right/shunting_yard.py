def evaluate(expression):
    """Dijkstra's shunting yard, with unary minus as its own operator."""
    precedence = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3}
    values, operators = [], []

    def apply(op):
        if op == "neg":
            if not values:
                raise ValueError("missing operand")
            values.append(-values.pop())
            return
        if len(values) < 2:
            raise ValueError("missing operand")
        right = values.pop()
        left = values.pop()
        if op == "+":
            values.append(left + right)
        elif op == "-":
            values.append(left - right)
        elif op == "*":
            values.append(left * right)
        else:
            values.append(left / right)

    expect_operand = True
    i, n = 0, len(expression)
    while i < n:
        ch = expression[i]
        if ch == " ":
            i += 1
            continue
        if "0" <= ch <= "9":
            if not expect_operand:
                raise ValueError("two operands in a row")
            j = i
            while j < n and "0" <= expression[j] <= "9":
                j += 1
            values.append(int(expression[i:j]))
            i = j
            expect_operand = False
            continue
        if ch == "(":
            if not expect_operand:
                raise ValueError("( after an operand")
            operators.append("(")
        elif ch == ")":
            if expect_operand:
                raise ValueError(") where an operand belongs")
            while operators and operators[-1] != "(":
                apply(operators.pop())
            if not operators:
                raise ValueError("unbalanced )")
            operators.pop()
        elif ch in "+-*/":
            if expect_operand:
                if ch != "-":
                    raise ValueError(f"{ch} where an operand belongs")
                operators.append("neg")
                i += 1
                continue
            while (
                operators
                and operators[-1] != "("
                and precedence[operators[-1]] >= precedence[ch]
            ):
                apply(operators.pop())
            operators.append(ch)
            expect_operand = True
        else:
            raise ValueError(f"unexpected {ch!r}")
        i += 1
    if expect_operand:
        raise ValueError("missing operand")
    while operators:
        op = operators.pop()
        if op == "(":
            raise ValueError("unbalanced (")
        apply(op)
    return values[0]
