# expect: status=exited exit_code=1 stderr~Error
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
s.connect(("127.0.0.1", 80))
print("connected")
