"""Listens on a Unix datagram socket and appends each datagram it gets to
a file, one line each (newlines inside a datagram become "\\n"), flushed
at once, until SIGTERM. Stands in for syslog's /dev/log (syslog.sh) and
systemd's $NOTIFY_SOCKET (sd_notify.sh):

  unix_dgram_sink.py [--creds] SOCKET_PATH OUTPUT_FILE

--creds: each line starts with "pid=PID " of the sending process, from the
kernel (SO_PASSCRED), as systemd checks a notification's sender.

The socket exists once OUTPUT_FILE does (it is created empty after the
bind), so a caller waits for the file before starting the sender.
"""
import os
import signal
import socket
import struct
import sys

args = sys.argv[1:]
creds = args[:1] == ["--creds"]
if creds:
    args = args[1:]
path, out = args
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
if creds:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
sock.bind(path)
# The daemon may run under another uid in a real service; here root sends.
os.chmod(path, 0o666)
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
with open(out, "a") as f:
    f.flush()
    while True:
        data, anc, _, _ = sock.recvmsg(65536, socket.CMSG_SPACE(12))
        head = ""
        if creds:
            pid = None
            for level, kind, value in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("iII", value[:12])[0]
            head = "pid=%s " % pid
        f.write(head + data.decode(errors="replace").replace("\n", "\\n") + "\n")
        f.flush()
