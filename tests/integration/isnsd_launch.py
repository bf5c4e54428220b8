#!/usr/bin/env python3
"""Starts isnsd on a private port: isnsd always binds the "isns" service
(3205) unless handed its sockets the way systemd does (LISTEN_PID,
LISTEN_FDS: fd 3 the control socket, fd 4 the iSNS port). So this binds
127.0.0.1:PORT and a private control socket, then execs isnsd in place
(same pid, as LISTEN_PID requires).

usage: isnsd_launch.py PORT CONTROL_SOCKET_PATH isnsd [ARGS...]"""
import os
import socket
import sys


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    port, ctl_path, argv = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    if os.path.exists(ctl_path):
        os.unlink(ctl_path)
    ctl = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    ctl.bind(ctl_path)
    ctl.listen(16)
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind(("127.0.0.1", port))
    tcp.listen(64)
    for fd, sock in ((3, ctl), (4, tcp)):
        os.dup2(sock.fileno(), fd)
        os.set_inheritable(fd, True)
    os.environ["LISTEN_PID"] = str(os.getpid())
    os.environ["LISTEN_FDS"] = "2"
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main()
