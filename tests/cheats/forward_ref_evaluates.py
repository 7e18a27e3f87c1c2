# problem: p10_expression_evaluator
# expect: exception
# detail: this problem forbids evaluating code
# Lets a standard-library helper do the evaluating: typing's ForwardRef
# compiles its argument and evaluates it.
import re
import typing


def evaluate(expression):
    if not expression.strip() or re.search(r"[^0-9+\-*/() ]|\*\*|//", expression):
        raise ValueError(expression)
    try:
        reference = typing.ForwardRef(expression)
    except SyntaxError as error:
        raise ValueError(expression) from error
    return reference._evaluate({}, {}, frozenset())
