#!/usr/bin/env python3
"""A hostile iSNS server on 127.0.0.1:PORT, for isns.sh.

usage: isns_fake.py silent|garbage PORT

silent:  accepts every connection, reads what comes, never answers.
garbage: on its Nth connection answers N % 3 requests well (status 0:
         the client goes on to SCNReg and DevAttrQry), then the next
         with the Nth of a list of malformed responses: random bytes, a
         wrong version, a length not a multiple of 4, an attribute running
         past the PDU, a wrong function, a wrong transaction, a string
         without its NUL, a PDU promised longer than sent, a multi-PDU
         message, an authentication block. Each connection is closed after
         its answer (the client must drop it anyway).

Prints "connections N" to stdout after each accept, so the test can see the
client came back after each failure."""
import os
import socket
import struct
import sys
import threading
import time


def hdr(func, length, flags=0x4C00, xid=1, seq=0, version=1):
    # flags: server | last | first
    return struct.pack(">HHHHHH", version, func, length, flags, xid, seq)


def tlv(tag, value):
    pad = (-len(value)) % 4
    return struct.pack(">II", tag, len(value) + pad) + value + b"\0" * pad


def variants(func, xid):
    rsp = func | 0x8000
    ok_status = struct.pack(">I", 0)
    yield os.urandom(64)
    yield hdr(rsp, 4, xid=xid, version=2) + ok_status
    yield hdr(rsp, 6, xid=xid) + ok_status + b"\0\0"
    body = ok_status + struct.pack(">II", 1, 4000) + b"abcd"
    yield hdr(rsp, len(body), xid=xid) + body
    yield hdr(0x8042, 4, xid=xid) + ok_status
    yield hdr(rsp, 4, xid=xid ^ 0x5555) + ok_status
    body = ok_status + struct.pack(">II", 6, 8) + struct.pack(">Q", 1)  # period of 8 bytes
    yield hdr(rsp, len(body), xid=xid) + body
    body = ok_status + struct.pack(">II", 1, 8) + b"no-nul!!"  # EID without NUL
    yield hdr(rsp, len(body), xid=xid) + body
    yield hdr(rsp, 400, xid=xid) + ok_status  # promises 400 bytes, sends 4
    yield hdr(rsp, 4, xid=xid, flags=0x4400, seq=0) + ok_status  # first, not last
    yield hdr(rsp, 4, xid=xid, flags=0x6C00) + ok_status  # authentication block
    yield b"\0" * 3


def serve(conn, mode, index):
    conn.settimeout(30)
    good = index % 3
    try:
        while True:
            h = b""
            while len(h) < 12:
                chunk = conn.recv(12 - len(h))
                if not chunk:
                    return
                h += chunk
            _, func, length, _, xid, _ = struct.unpack(">HHHHHH", h)
            left = length
            while left:
                chunk = conn.recv(left)
                if not chunk:
                    return
                left -= len(chunk)
            if mode == "silent":
                continue
            if good:
                good -= 1
                conn.sendall(hdr(func | 0x8000, 4, xid=xid) + struct.pack(">I", 0))
                continue
            all_variants = list(variants(func, xid))
            conn.sendall(all_variants[index % len(all_variants)])
            time.sleep(0.2)
            return
    except OSError:
        return
    finally:
        if mode != "silent":
            conn.close()


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("silent", "garbage"):
        sys.exit(__doc__)
    mode, port = sys.argv[1], int(sys.argv[2])
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", port))
    srv.listen(16)
    held = []  # silent: keep every connection open
    n = 0
    while True:
        conn, _ = srv.accept()
        n += 1
        print("connections %d" % n, flush=True)
        if mode == "silent":
            held.append(conn)
        threading.Thread(target=serve, args=(conn, mode, n - 1), daemon=True).start()


if __name__ == "__main__":
    main()
