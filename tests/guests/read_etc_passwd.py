# expect: status=exited exit_code=1 stderr~PermissionError stdout!~root:
print(open("/etc/passwd").read())
