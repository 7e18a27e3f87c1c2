# The program is a real __main__ module: guards, dataclasses, decorators,
# imports of the standard library, unicode output.
# expect: status=exited exit_code=0 stdout=Point(x=1,_y=2)\n3\nmain\n√2≈1.414\n
import functools
import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Point:
    x: int
    y: int


def twice(function):
    @functools.wraps(function)
    def wrapper(*args):
        return function(*function(*args))
    return wrapper


@twice
def swap(a, b):
    return b, a


if __name__ == "__main__":
    print(str(Point(1, 2)).replace(" ", "_"))
    print(sum(swap(1, 2)))
    print(__name__[2:6])
    print(f"√2≈{math.sqrt(2):.3f}")
