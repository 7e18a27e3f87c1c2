# expect: status=exited exit_code=1 stderr~RuntimeError stdout!~ran
import threading
t = threading.Thread(target=lambda: print("ran"))
t.start()
t.join()
