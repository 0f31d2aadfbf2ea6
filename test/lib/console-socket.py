#!/usr/bin/env python3
"""A console socket for tests, as containerd and conmon have one: listen on PATH,
receive the pty master corral sends (SCM_RIGHTS), optionally type INPUT into it,
and copy what the container writes to stdout until it hangs up. Prints
"name=<data sent with the fd>" first."""
import os, socket, sys, select

path = sys.argv[1]
typed = sys.argv[2].encode() if len(sys.argv) > 2 else b''
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path)
srv.listen(1)
print('listening', flush=True)
conn, _ = srv.accept()
msg, fds, _, _ = socket.recv_fds(conn, 4096, 1)
master = fds[0]
print('name=' + msg.decode(), flush=True)
if typed:
    os.write(master, typed)
while True:
    r, _, _ = select.select([master], [], [], 20)
    if not r:
        break
    try:
        data = os.read(master, 4096)
    except OSError:
        break
    if not data:
        break
    sys.stdout.write(data.decode(errors='replace'))
    sys.stdout.flush()
