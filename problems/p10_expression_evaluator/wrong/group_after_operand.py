# expect: wrong_answer
# Shunting-yard that accepts "(" in any state and returns the top of the
# value stack without checking that one value is left: "2 (3)" gives 3 and
# "(1 + 1)(5)" gives 5 instead of raising ValueError.
def evaluate(expression):
    tokens = []
    i = 0
    while i < len(expression):
        c = expression[i]
        if c == " ":
            i += 1
        elif "0" <= c <= "9":
            j = i
            while j < len(expression) and "0" <= expression[j] <= "9":
                j += 1
            tokens.append(int(expression[i:j]))
            i = j
        elif c in "+-*/()":
            if c == "*" and expression[i + 1:i + 2] == "*":
                raise ValueError("** is not allowed")
            tokens.append(c)
            i += 1
        else:
            raise ValueError(f"unexpected character {c!r}")
    if not tokens:
        raise ValueError("empty expression")

    precedence = {"+": 1, "-": 1, "*": 2, "/": 2, "neg": 3}
    values, operators = [], []

    def apply(op):
        if op == "neg":
            values.append(-values.pop())
            return
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
    try:
        for token in tokens:
            if isinstance(token, int):
                if not expect_operand:
                    raise ValueError("missing operator")
                values.append(token)
                expect_operand = False
            elif token == "(":
                operators.append("(")
                expect_operand = True
            elif token == ")":
                if expect_operand:
                    raise ValueError("missing operand")
                while operators and operators[-1] != "(":
                    apply(operators.pop())
                if not operators:
                    raise ValueError("unbalanced parentheses")
                operators.pop()
            elif expect_operand:
                if token != "-":
                    raise ValueError("missing operand")
                operators.append("neg")
            else:
                while (operators and operators[-1] != "("
                       and precedence[operators[-1]] >= precedence[token]):
                    apply(operators.pop())
                operators.append(token)
                expect_operand = True
        if expect_operand:
            raise ValueError("missing operand")
        while operators:
            op = operators.pop()
            if op == "(":
                raise ValueError("unbalanced parentheses")
            apply(op)
    except IndexError:
        raise ValueError("malformed expression") from None
    return values[-1]
