# expect: status=exited exit_code=1 stderr~FileNotFoundError stdout!~root:
print(open("/etc/passwd").read())
