"""fuelbench's in-guest runner, baked into the interpreter snapshot.

The host's reactor calls `run(source, seed)` once per sandbox. The program runs
as a real `__main__` module, so classes, `if __name__ == "__main__":` guards,
decorators, dataclasses and imports behave as under `python3 main.py`. Whatever
the program raises is reported on stderr and turned into an exit code here;
nothing it does can make `run` itself raise.

Everything imported at the top of this file is imported once, when the
snapshot is taken, and costs a run neither file reads nor compilation.
"""

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
import io  # noqa: F401
import itertools  # noqa: F401
import json  # noqa: F401
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
