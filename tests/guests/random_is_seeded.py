# With seed 0, random starts where CPython's random.seed(0) starts.
# expect: status=exited exit_code=0 stdout=0.8444218515250481\n
import random
print(random.random())
