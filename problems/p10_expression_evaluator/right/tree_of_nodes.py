"""A parser that builds a tree of nodes, each with its own `eval` method.

Nothing here is Python's `eval` or the `ast` module: a method called `eval`
and a variable called `ast` are the solution's own names. The dataclasses
build their methods with `exec` as the module loads, which is allowed; the
rule is about what runs while an expression is evaluated.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Number:
    value: int

    def eval(self):
        return self.value


@dataclass(frozen=True)
class Negate:
    operand: object

    def eval(self):
        return -self.operand.eval()


@dataclass(frozen=True)
class Binary:
    op: str
    left: object
    right: object

    def eval(self):
        left, right = self.left.eval(), self.right.eval()
        if self.op == "+":
            return left + right
        if self.op == "-":
            return left - right
        if self.op == "*":
            return left * right
        if right == 0:
            raise ZeroDivisionError("division by zero")
        return left / right


def _tokens(text):
    tokens, at = [], 0
    while at < len(text):
        char = text[at]
        if char == " ":
            at += 1
        elif "0" <= char <= "9":
            end = at
            while end < len(text) and "0" <= text[end] <= "9":
                end += 1
            tokens.append(int(text[at:end]))
            at = end
        elif char in "+-*/()":
            tokens.append(char)
            at += 1
        else:
            raise ValueError(f"unexpected {char!r} at {at}")
    return tokens


def _parse(tokens):
    """Precedence climbing without recursion on sums, products or signs, so
    long flat expressions and long chains of minus signs cost no stack."""
    at = 0
    # Each open parenthesis saves the operands and operators around it.
    stack = []
    operands, operators = [], []
    precedence = {"+": 1, "-": 1, "*": 2, "/": 2}

    def reduce_while(limit):
        while operators and operators[-1] != "(" and precedence[operators[-1]] >= limit:
            op = operators.pop()
            right, left = operands.pop(), operands.pop()
            operands.append(Binary(op, left, right))

    expect_operand = True
    signs = 0
    while at < len(tokens):
        token = tokens[at]
        at += 1
        if expect_operand:
            if token == "-":
                signs += 1
                continue
            if token == "(":
                stack.append((operands, operators, signs))
                operands, operators, signs = [], [], 0
                continue
            if not isinstance(token, int):
                raise ValueError(f"missing operand before {token!r}")
            node = Number(token)
            for _ in range(signs):
                node = Negate(node)
            signs = 0
            operands.append(node)
            expect_operand = False
        elif token == ")":
            if not stack:
                raise ValueError("unbalanced ')'")
            reduce_while(1)
            node = operands.pop()
            operands, operators, signs = stack.pop()
            for _ in range(signs):
                node = Negate(node)
            signs = 0
            operands.append(node)
        elif token in precedence:
            reduce_while(precedence[token])
            operators.append(token)
            expect_operand = True
        else:
            raise ValueError(f"unexpected {token!r}")
    if expect_operand or stack:
        raise ValueError("incomplete expression")
    reduce_while(1)
    return operands[0]


def evaluate(expression):
    ast = _parse(_tokens(expression))
    return _evaluate_iteratively(ast)


def _evaluate_iteratively(ast):
    """Node.eval recurses; a tree as deep as a 100,000-character chain
    would not fit the stack, so deep trees are folded bottom-up here."""
    results = {}
    pending = [(ast, False)]
    while pending:
        node, ready = pending.pop()
        if isinstance(node, Number):
            results[id(node)] = node.eval()
        elif not ready:
            pending.append((node, True))
            children = [node.operand] if isinstance(node, Negate) else [node.left, node.right]
            pending.extend((child, False) for child in children)
        elif isinstance(node, Negate):
            results[id(node)] = -results[id(node.operand)]
        else:
            folded = Binary(node.op, Number(results[id(node.left)]), Number(results[id(node.right)]))
            results[id(node)] = folded.eval()
    return results[id(ast)]
