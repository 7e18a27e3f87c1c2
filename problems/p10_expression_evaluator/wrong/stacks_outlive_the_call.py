# expect: wrong_answer
# Shunting yard whose stacks live at module level, reused "to save
# allocations": after an error leaves operators and values on them, the next
# call finishes the old work with its own ("1 +" then "2 * 3" gives 7).
_values = []
_operators = []
_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3}


def _apply(op):
    if op == "neg":
        if not _values:
            raise ValueError("missing operand")
        _values.append(-_values.pop())
        return
    if len(_values) < 2:
        raise ValueError("missing operand")
    right = _values.pop()
    left = _values.pop()
    if op == "+":
        _values.append(left + right)
    elif op == "-":
        _values.append(left - right)
    elif op == "*":
        _values.append(left * right)
    else:
        _values.append(left / right)


def evaluate(expression):
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
            _values.append(int(expression[i:j]))
            i = j
            expect_operand = False
            continue
        if ch == "(":
            if not expect_operand:
                raise ValueError("( after an operand")
            _operators.append("(")
        elif ch == ")":
            if expect_operand:
                raise ValueError(") where an operand belongs")
            while _operators and _operators[-1] != "(":
                _apply(_operators.pop())
            if not _operators:
                raise ValueError("unbalanced )")
            _operators.pop()
        elif ch in "+-*/":
            if expect_operand:
                if ch != "-":
                    raise ValueError(f"{ch} where an operand belongs")
                _operators.append("neg")
                i += 1
                continue
            while _operators and _operators[-1] != "(" and _PRECEDENCE[_operators[-1]] >= _PRECEDENCE[ch]:
                _apply(_operators.pop())
            _operators.append(ch)
            expect_operand = True
        else:
            raise ValueError(f"unexpected {ch!r}")
        i += 1
    if expect_operand:
        raise ValueError("missing operand")
    while _operators:
        op = _operators.pop()
        if op == "(":
            raise ValueError("unbalanced (")
        _apply(op)
    return _values.pop()
