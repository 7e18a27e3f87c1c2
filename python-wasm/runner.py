"""fuelbench's in-guest runner, baked into the interpreter snapshot.

The host's reactor calls `run(source, seed)` once per sandbox to run a plain
program, or `prepare(payload)` once before it loads a candidate to check. A
plain program runs as a real `__main__` module, so classes, `if __name__ ==
"__main__":` guards, decorators, dataclasses and imports behave as under
`python3 main.py`. Whatever the program raises is reported on stderr and turned
into an exit code here; nothing it does can make `run` itself raise.

Everything imported at the top of this file is imported once, when the
snapshot is taken, and costs a run neither file reads nor compilation.
"""

import ast
import builtins
import gc
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
import math  # noqa: F401
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


# --- Preparing a check ---------------------------------------------------
#
# `prepare` is the only Python of ours that runs in a check, and it runs
# before the candidate is loaded: it reads the payload, evaluates the case's
# inputs (or runs the problem's set-up code), and hands the reactor what to
# call. From then on the reactor works in C: it loads the candidate, calls it,
# and encodes what came back for the host, which compares it with the
# expected value. Expected values never come here. Case inputs are Python
# literals from the problem set; a malformed one raises BadCase, the
# problem's fault, before any candidate code has run.

# What `prepare` returns first; the reactor's `enum kind`.
FUNCTION, CLASS, SUITE, DATA = 0, 1, 2, 3


class _Sink(io.TextIOBase):
    """Where the candidate's prints go: nothing reads the output of a check."""

    def writable(self):
        return True

    def write(self, text):
        return len(text)


# What a case literal may contain: Python literals plus arithmetic, so that a
# problem can write `10**18` or `[0.0] * 1000`.
_LITERAL_NODES = (
    ast.Expression, ast.Constant, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.Load,
    ast.UnaryOp, ast.USub, ast.UAdd, ast.BinOp, ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow,
)


class BadCase(Exception):
    """A case in the problem set is malformed: the problem's fault."""


class Unreadable(Exception):
    """The candidate's source could not be read for the names check: the
    candidate's fault, and never a pass."""


def _names_used(source, names):
    """The sorted `names` that `source` (bytes, read as the loader reads them:
    its encoding cookie honoured, a NUL refused) uses as a name, an attribute,
    a module it imports, or a string that is exactly one of them
    (`getattr(builtins, "eval")`). A name the source binds itself (a method
    called `eval`, a variable called `ast`) is its own, not a use of the
    built-in, except as a module it imports. Source that cannot be read
    raises Unreadable: the check fails closed."""
    try:
        if b"\0" in source:
            raise ValueError("source code cannot contain null bytes")
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        raise Unreadable(f"{type(error).__name__}: {error}") from None
    wanted = set(names)
    bound = set()
    used = set()
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.Name):
            (used if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.Attribute):
            (used if isinstance(node.ctx, ast.Load) else bound).add(node.attr)
        elif isinstance(node, ast.alias):
            imported.update(node.name.split("."))
            if node.asname is not None:
                bound.add(node.asname)
        elif isinstance(node, ast.ImportFrom):
            imported.update((node.module or "").split("."))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            used.add(node.value)
    found = (used - bound) | imported
    return sorted(found & wanted)


def _literal(text):
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError as error:
        raise BadCase(f"{text!r:.80} is not an expression: {error}") from None
    for node in ast.walk(tree):
        if not isinstance(node, _LITERAL_NODES):
            raise BadCase(f"{text!r:.80} holds {type(node).__name__}, not only literals and arithmetic")
    return eval(compile(tree, "<case>", "eval"), {"__builtins__": {}})


def _call_inputs(kind, inputs):
    """The reactor's shape of a case's inputs: an argument tuple, or a tuple
    of (method, args) whose first is ("__init__", args)."""
    if kind == FUNCTION:
        if not isinstance(inputs, (tuple, list)):
            raise BadCase(f"the arguments are a {type(inputs).__name__}, not a tuple")
        return tuple(inputs)
    if not isinstance(inputs, (tuple, list)) or not inputs:
        raise BadCase("a class case's calls must be a non-empty list of (method, args)")
    calls = []
    for call in inputs:
        if not (isinstance(call, (tuple, list)) and len(call) == 2 and isinstance(call[0], str)
                and isinstance(call[1], (tuple, list))):
            raise BadCase(f"{call!r:.80} is not a (method, args) pair")
        calls.append((call[0], tuple(call[1])))
    if calls[0][0] != "__init__":
        raise BadCase("the first call of a class case must be __init__")
    return tuple(calls)


# `prepare`'s flags; the reactor's FLAG_*.
BATCH, FORBID_COMPILING = 1, 2


def _run_and_forget(code, namespace, names):
    """Runs a generator or a set-up in `namespace` and returns the values of
    `names` it bound (None for one it did not). Everything else it made (its
    `rng`, helpers, and in a candidate's instance the exact expected values
    of numerical cases) is dropped and collected here, before the candidate
    loads: a function the code defined holds the namespace in a cycle, which
    a candidate could otherwise find among the collector's garbage."""
    try:
        exec(code, namespace)
        return [namespace.get(name) for name in names]
    finally:
        namespace.clear()
        gc.collect()


def _generate(request, names=("inputs",)):
    """Runs a problem's generator with a generator of its own, seeded from
    the check's input seed and thrown away after; returns what it bound to
    `names` (`inputs`, and for numerical cases `expected`)."""
    namespace = {"rng": random.Random(request["input_seed"]), "count": request["count"]}
    values = _run_and_forget(request["code"], namespace, names)
    if not isinstance(values[0], list) or len(values[0]) != request["count"]:
        raise BadCase(f"the generator must bind `inputs`, a list of {request['count']}")
    return values


def prepare(payload):
    """Reads a check's JSON payload and returns `(kind, entry_point, data,
    flags)`.

    `seed` seeds the module-level `random` the candidate sees; `input_seed`,
    which the host derives apart from it, seeds the generators that build
    inputs, each a `random.Random` of its own that is discarded before the
    candidate loads. `mode` is one of:
      "case":     `input` is a literal: the arguments, or a class's calls;
      "measure":  `setup` is Python that, given `n` and `random` (its own
                  generator), binds `args` (or `calls`): one complexity input;
      "generated": `code` is a problem's generator: given `rng` and `count`,
                  it binds `inputs`, each an argument tuple (or a class's
                  calls); the candidate is called on each, as a batch;
      "expected": the same generator, whose `expected` is returned as data;
      "suite":    `prompt` and `test` are a public suite's task: the prompt is
                  run here, alone, for the names the test may use, with the
                  built-ins as they are before any candidate loads;
      "literals": `literals` are evaluated and returned as data, for the host;
      "names":    which of `names` the candidate's `source` uses, read from its
                  syntax tree alone (the source is parsed, never run), returned
                  as data.
    `forbid_compiling` makes the call refuse to compile or run Python code.
    """
    request = json.loads(payload)
    random.seed(request["seed"])
    mode = request["mode"]
    flags = FORBID_COMPILING if request.get("forbid_compiling") else 0
    if mode == "literals":
        return DATA, None, [_literal(text) for text in request["literals"]], 0
    if mode == "names":
        return DATA, None, _names_used(request["source"].encode("utf-8", "surrogatepass"), request["names"]), 0
    if mode == "expected":
        _, expected = _generate(request, ("inputs", "expected"))
        if not isinstance(expected, list) or len(expected) != request["count"]:
            raise BadCase(f"the generator must bind `expected`, a list of {request['count']}")
        return DATA, None, expected, 0
    if mode == "suite":
        namespace = {"__builtins__": dict(builtins.__dict__), "__name__": "__main__"}
        exec(compile(request["prompt"], "prompt.py", "exec"), namespace)
        test = compile(request["test"], "test.py", "exec")
        sys.stdout = _Sink()
        return SUITE, request["entry_point"], (namespace, test), 0
    kind = FUNCTION if request["kind"] == "function" else CLASS
    if mode == "case":
        inputs = _call_inputs(kind, _literal(request["input"]))
    elif mode == "measure":
        namespace = {"n": request["n"], "random": random.Random(request["input_seed"])}
        name = "args" if kind == FUNCTION else "calls"
        [bound] = _run_and_forget(request["setup"], namespace, (name,))
        if bound is None:
            raise BadCase(f"the complexity set-up binds no `{name}`")
        inputs = _call_inputs(kind, bound)
    elif mode == "generated":
        [items] = _generate(request)
        inputs = tuple(_call_inputs(kind, item) for item in items)
        flags |= BATCH
    else:
        raise BadCase(f"unknown mode {mode!r}")
    sys.stdout = _Sink()
    return kind, request["entry_point"], inputs, flags
