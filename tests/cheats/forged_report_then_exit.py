# problem: p01_merge_intervals
# expect: exited
# detail: ended the process with status 0 while loading
# Prints what the old harness's report line looked like, then ends the
# interpreter before anything else can report.
import json
import os
import sys

report = {"load": "ok", "cases": [{"name": "small[0]", "outcome": "pass"}], "cost": 1}
sys.__stdout__.write("\x1efuelbench-report " + json.dumps(report) + "\n")
sys.__stdout__.flush()
os._exit(0)
