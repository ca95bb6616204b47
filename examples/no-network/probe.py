"""What a program sees under hooks.js: local sockets work, IP sockets do not."""
import socket

a, b = socket.socketpair()  # AF_UNIX: allowed
a.sendall(b"ping")
print("AF_UNIX socketpair:", b.recv(4).decode())
for family, name in ((socket.AF_INET, "AF_INET"), (socket.AF_INET6, "AF_INET6")):
    try:
        socket.socket(family, socket.SOCK_STREAM).close()
        print(name, "socket: created")
    except OSError as e:
        print(name, "socket:", e.strerror)
