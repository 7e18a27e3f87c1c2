# problem: p10_expression_evaluator
# expect: exception
# detail: this problem forbids evaluating code
# Imports the parser under a computed name and walks Python's own syntax
# tree: the parse itself is the forbidden work, refused during the call.
import importlib
import operator

_tree = importlib.import_module("".join(reversed("tsa")))
_OPS = {"Add": operator.add, "Sub": operator.sub, "Mult": operator.mul, "Div": operator.truediv}


def _walk(node):
    kind = type(node).__name__
    if kind == "Expression":
        return _walk(node.body)
    if kind == "Constant" and type(node.value) is int:
        return node.value
    if kind == "BinOp" and type(node.op).__name__ in _OPS:
        return _OPS[type(node.op).__name__](_walk(node.left), _walk(node.right))
    if kind == "UnaryOp" and type(node.op).__name__ == "USub":
        return -_walk(node.operand)
    raise ValueError(kind)


def evaluate(expression):
    try:
        return _walk(_tree.parse(expression, mode="".join(["ev", "al"])))
    except SyntaxError as error:
        raise ValueError(expression) from error
