# problem: p03_mean_variance
# expect: wrong_answer
# detail: got (
# Makes every float comparison and every JSON report say yes, then returns
# a wrong mean.
import json
import math
import sys

math.isclose = lambda *args, **kwargs: True
math.isnan = lambda value: False
json.dumps = lambda *args, **kwargs: '{"load": "ok", "cases": [{"outcome": "pass"}]}'
json.loads = lambda *args, **kwargs: {"load": "ok"}
sys.modules["math"] = None


def mean_and_variance(values):
    return (0.5, 0.25)
