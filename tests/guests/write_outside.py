# expect: status=exited exit_code=0 stdout=blocked:/tmp/fuelbench-sandbox-escape\nblocked:/usr/local/lib/python3.11/fuelbench-escape.py\nblocked:fuelbench-escape-relative\n
for path in ["/tmp/fuelbench-sandbox-escape",
             "/usr/local/lib/python3.11/fuelbench-escape.py",
             "fuelbench-escape-relative"]:
    try:
        with open(path, "w") as f:
            f.write("escaped")
        print("wrote:" + path)
    except OSError:
        print("blocked:" + path)
