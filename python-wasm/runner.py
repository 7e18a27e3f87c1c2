"""fuelbench's in-guest runner, baked into the interpreter snapshot.

The host's reactor calls `run(source, seed)` once per sandbox. The program runs
as a real `__main__` module, so classes, `if __name__ == "__main__":` guards,
decorators, dataclasses and imports behave as under `python3 main.py`. Whatever
the program raises is reported on stderr and turned into an exit code here;
nothing it does can make `run` itself raise.

Everything imported at the top of this file is imported once, when the
snapshot is taken, and costs a run neither file reads nor compilation.
"""

import _fuelbench
import ast
import builtins
import sys
import types

# Imported for the snapshot: the standard library that solutions commonly use.
# The names are not used here.
import abc  # noqa: F401
import array  # noqa: F401
import bisect  # noqa: F401
import collections  # noqa: F401
import collections.abc  # noqa: F401
import contextlib  # noqa: F401
import copy  # noqa: F401
import dataclasses  # noqa: F401
import decimal  # noqa: F401
import enum  # noqa: F401
import fractions  # noqa: F401
import functools  # noqa: F401
import heapq  # noqa: F401
import io
import itertools  # noqa: F401
import json
import math
import numbers  # noqa: F401
import operator  # noqa: F401
import random
import re  # noqa: F401
import statistics  # noqa: F401
import string  # noqa: F401
import struct  # noqa: F401
import typing  # noqa: F401
import unicodedata  # noqa: F401

# sysexits.h: the runner itself failed, not the program.
EX_SOFTWARE = 70


def _exit_status(code):
    """CPython's own mapping of `SystemExit.code` to a process status."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        print(code, file=sys.stderr)
    except BaseException:
        pass
    return 1


def _flush():
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:
            pass


def run(source, seed):
    random.seed(seed)
    main = types.ModuleType("__main__")
    main.__dict__["__builtins__"] = builtins
    main.__dict__["__file__"] = "main.py"
    sys.modules["__main__"] = main
    sys.argv = ["main.py"]
    try:
        code = compile(source, "main.py", "exec")
        exec(code, main.__dict__)
        status = 0
    except SystemExit as request:
        status = _exit_status(request.code)
    except BaseException as error:
        # CPython's own C printer, as for an uncaught exception: it folds
        # repeated frames and does not build a Python object per frame, so a
        # RecursionError a million frames deep costs little fuel.
        try:
            sys.__excepthook__(type(error), error, error.__traceback__)
        except BaseException:
            status = EX_SOFTWARE
        else:
            status = 1
    _flush()
    return status


# --- Checking a candidate against a problem's cases -----------------------
#
# The host runs a two-line driver program that calls `check()` or `measure()`
# and passes the candidate and the cases as JSON on stdin. The candidate's own
# output is swallowed; the report is the last stdout line, after REPORT_MARK.
# Case inputs are Python literals from the problem set, read with
# ast.literal_eval; nothing the candidate does can make these functions
# raise, only fail its own cases.

REPORT_MARK = "\x1efuelbench-report "

# How much of an exception message a report keeps.
DETAIL_CHARS = 300


class _Sink(io.TextIOBase):
    """Where the candidate's prints go while it is being checked."""

    def writable(self):
        return True

    def write(self, text):
        return len(text)


def _describe(error):
    text = f"{type(error).__name__}: {error}"
    return text if len(text) <= DETAIL_CHARS else text[: DETAIL_CHARS - 3] + "..."


def _report(report):
    sys.stdout = sys.__stdout__
    print(REPORT_MARK + json.dumps(report, default=repr))
    _flush()


def _load_candidate(source):
    """The candidate as a real module `solution`, or an error report."""
    module = types.ModuleType("solution")
    module.__dict__["__builtins__"] = builtins
    module.__dict__["__file__"] = "solution.py"
    sys.modules["solution"] = module
    try:
        code = compile(source, "solution.py", "exec")
    except SyntaxError as error:
        return None, {"load": "syntax_error", "detail": _describe(error)}
    except BaseException as error:
        return None, {"load": "exception", "detail": _describe(error)}
    try:
        exec(code, module.__dict__)
    except BaseException as error:
        return None, {"load": "exception", "detail": _describe(error)}
    return module, None


# What a case literal may contain: Python literals plus arithmetic, so that a
# problem can write `10**18` or `[0.0] * 1000`.
_LITERAL_NODES = (
    ast.Expression, ast.Constant, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.Load,
    ast.UnaryOp, ast.USub, ast.UAdd, ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow,
)


class BadCase(Exception):
    """A case in the problem set is malformed: the problem's fault."""


def _literal(text):
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        raise BadCase(f"{text!r:.80} is not an expression: {error}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _LITERAL_NODES):
            raise BadCase(f"{text!r:.80} holds {type(node).__name__}, not only literals and arithmetic")
    return eval(compile(tree, "<case>", "eval"), {"__builtins__": {}})


def _invoke(entry, kind, inputs):
    if kind == "function":
        return entry(*inputs)
    (init_name, init_args), rest = inputs[0], inputs[1:]
    if init_name != "__init__":
        raise ValueError("the first call of a class case must be __init__")
    instance = entry(*init_args)
    results = [None]
    for method, args in rest:
        results.append(getattr(instance, method)(*args))
    return results


def _close(got, want, compare):
    if isinstance(want, bool) or isinstance(got, bool):
        return type(got) is type(want) and got == want
    if isinstance(want, (int, float)) and isinstance(got, (int, float)):
        if isinstance(want, int) and isinstance(got, int):
            return got == want
        if math.isnan(want) or math.isnan(got):
            return math.isnan(want) and math.isnan(got)
        return math.isclose(got, want, rel_tol=compare["rel_tol"], abs_tol=compare["abs_tol"])
    if isinstance(want, (list, tuple)) and isinstance(got, (list, tuple)):
        return len(got) == len(want) and all(_close(g, w, compare) for g, w in zip(got, want))
    if isinstance(want, dict) and isinstance(got, dict):
        return got.keys() == want.keys() and all(_close(got[k], want[k], compare) for k in want)
    return type(got) is type(want) and got == want


def _matches(got, want, compare):
    if compare["mode"] == "unordered":
        if not isinstance(got, (list, tuple, set, frozenset)) or not isinstance(want, (list, tuple, set, frozenset)):
            return False
        remaining = list(got)
        if len(remaining) != len(want):
            return False
        for item in want:
            for index, candidate in enumerate(remaining):
                if _close(candidate, item, compare):
                    del remaining[index]
                    break
            else:
                return False
        return True
    return _close(got, want, compare)


def _raised_as_expected(error, name):
    return any(cls.__name__ == name for cls in type(error).__mro__)


def _run_case(entry, kind, case):
    expect = case["expect"]
    inputs = _literal(case["input"]["args" if kind == "function" else "calls"])
    want = _literal(expect["value"]) if "value" in expect else None
    try:
        got = _invoke(entry, kind, inputs)
    except BaseException as error:
        if "raises" in expect and _raised_as_expected(error, expect["raises"]):
            return {"name": case["name"], "outcome": "pass"}
        return {"name": case["name"], "outcome": "exception", "detail": _describe(error)}
    if "raises" in expect:
        return {"name": case["name"], "outcome": "wrong_answer",
                "detail": f"returned {got!r:.{DETAIL_CHARS}} instead of raising {expect['raises']}"}
    if _matches(got, want, case["compare"]):
        return {"name": case["name"], "outcome": "pass"}
    return {"name": case["name"], "outcome": "wrong_answer",
            "detail": f"got {got!r:.{DETAIL_CHARS}}, want {want!r:.{DETAIL_CHARS}}"}


def _prepare():
    """The stdin payload and the candidate's entry point, or (payload, None)
    after reporting why the candidate did not load."""
    payload = json.loads(sys.stdin.read())
    sys.stdout = _Sink()
    module, failure = _load_candidate(payload["candidate"])
    if failure is not None:
        _report(failure)
        return payload, None
    entry = getattr(module, payload["entry_point"], None)
    if entry is None:
        _report({"load": "exception", "detail": f"solution.py defines no `{payload['entry_point']}`"})
    return payload, entry


def check():
    """Runs every case in the stdin payload against the candidate."""
    payload, entry = _prepare()
    if entry is None:
        return
    try:
        results = [_run_case(entry, payload["kind"], case) for case in payload["cases"]]
    except BadCase as error:
        _report({"load": "bad_case", "detail": str(error)})
        return
    _report({"load": "ok", "cases": results})


def measure():
    """Builds one complexity input and measures the fuel of solving it.

    The fuel is read just before and just after the call, inside this run, so
    loading the candidate and building the input cost nothing; the cost of
    reading the fuel itself is measured the same way and subtracted."""
    payload, entry = _prepare()
    if entry is None:
        return
    random.seed(payload["seed"])
    namespace = {"n": payload["n"], "random": random}
    exec(payload["setup"], namespace)
    function = payload["kind"] == "function"
    inputs = namespace["args"] if function else namespace["calls"]
    start = _fuelbench.fuel()
    overhead = _fuelbench.fuel() - start
    try:
        start = _fuelbench.fuel()
        _invoke(entry, payload["kind"], inputs)
        cost = _fuelbench.fuel() - start - overhead
    except BaseException as error:
        _report({"load": "ok", "error": _describe(error)})
        return
    _report({"load": "ok", "cost": max(cost, 0)})
