#!/usr/bin/env python3
"""The management socket against clients that get it wrong (issue 8:
"the RPC refuses non-root peers (SO_PEERCRED), malformed JSON, unknown
methods, wrong types, and huge requests, with JSON-RPC error objects").

usage: mgmt_rpc.py SOCKET USCSTD_PID RPC_DOC

Phases (each a failure of its own; uscstd must be alive after each):
 1. the socket is 0600; rpc.methods lists exactly the methods and
    parameters of docs/rpc.md's table (RPC_DOC);
 2. errors that keep the connection: not a request, a batch, unknown
    method, missing / unknown / mistyped parameters, params not an
    object, a bad id; a notification gets no response; each answered in
    order with its code, the next request on the same connection served;
 3. errors that end it: bytes that are not JSON (-32700), a request past
    1 MiB (-32600), each answered, then the connection closed;
 4. a peer that is not root (uid 65534 on a socket made 0666 for the
    test) gets -32003 and is closed, and changes nothing;
 5. a client that never reads (1000 tree.get requests, no read) and one
    that sends half a request and stops: another client is served
    meanwhile, and uscstd's RSS grows less than RSS_BOUND_MIB;
 6. 16 clients at once are served; a 17th is closed at once; after they
    leave a new client is served.
"""
import json
import os
import re
import socket
import stat
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostile import check, ok, measured, rss_kib, sanitized  # noqa: E402
import hostile  # noqa: E402

RSS_BOUND_MIB = 32
RSS_BOUND_SANITIZED_MIB = 128

if len(sys.argv) != 4:
    print(__doc__)
    sys.exit(2)
SOCK, PID, DOC = sys.argv[1], int(sys.argv[2]), sys.argv[3]
hostile._args["pid"] = PID
failures = hostile.failures


class Client:
    def __init__(self, timeout=20):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(timeout)
        self.s.connect(SOCK)
        self.buf = b""

    def send_raw(self, data):
        self.s.sendall(data)

    def send(self, obj):
        self.send_raw(json.dumps(obj).encode() + b"\n")

    def recv(self):
        """The next response, or None at EOF."""
        while b"\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                return None
            self.buf += d
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def call(self, method, params=None, rid=1):
        req = {"jsonrpc": "2.0", "id": rid, "method": method}
        if params is not None:
            req["params"] = params
        self.send(req)
        return self.recv()

    def eof(self):
        try:
            return self.s.recv(1) == b""
        except ConnectionResetError:
            return True

    def close(self):
        self.s.close()


def error_code(resp):
    return resp.get("error", {}).get("code") if resp else None


def phase(name):
    return hostile.phase(name)


with phase("socket mode and rpc.methods against docs/rpc.md"):
    mode = stat.S_IMODE(os.stat(SOCK).st_mode)
    check(mode == 0o600, "socket mode is %o, not 600" % mode) and ok("socket mode 0600")
    c = Client()
    r = c.call("rpc.methods")
    methods = {m["name"]: m for m in r["result"]["methods"]}
    doc = {}
    for line in open(DOC):
        m = re.match(r"^\| `([a-z_.]+)` \|([^|]*)\|", line)
        if m:
            doc[m.group(1)] = re.findall(r"`([a-z_]+)`(\?)?", m.group(2))
    check(set(doc) == set(methods),
          "docs/rpc.md lists %s, rpc.methods %s" % (sorted(doc), sorted(methods)))
    for name, params in doc.items():
        if name not in methods:
            continue
        have = [(p["name"], "" if p["required"] else "?") for p in methods[name]["params"]]
        check(sorted(have) == sorted(params),
              "%s: docs/rpc.md says %s, rpc.methods %s" % (name, params, have))
    ok("rpc.methods: %d methods, as docs/rpc.md's table" % len(methods))
    c.close()

with phase("errors that keep the connection"):
    c = Client()
    cases = [
        (b'{"jsonrpc":"2.0","id":1}', -32600, "no method"),
        (b'[{"jsonrpc":"2.0","id":1,"method":"tree.get"}]', -32600, "a batch"),
        (b'42', -32600, "a number"),
        (b'{"jsonrpc":"1.0","id":1,"method":"tree.get"}', -32600, "jsonrpc 1.0"),
        (b'{"jsonrpc":"2.0","id":[1],"method":"tree.get"}', -32600, "an array id"),
        (b'{"jsonrpc":"2.0","id":1,"method":"tree.get","params":[1]}', -32600,
         "positional params"),
        (b'{"jsonrpc":"2.0","id":1,"method":"tree.get","extra":1}', -32600,
         "an unknown member"),
        (b'{"jsonrpc":"2.0","id":1,"method":"no.such"}', -32601, "an unknown method"),
        (b'{"jsonrpc":"2.0","id":1,"method":"lun.add","params":{"driver":"iscsi"}}',
         -32602, "missing parameters"),
        (b'{"jsonrpc":"2.0","id":1,"method":"tree.get","params":{"path":7}}', -32602,
         "a number for a string"),
        (b'{"jsonrpc":"2.0","id":1,"method":"tree.get","params":{"pth":"x"}}', -32602,
         "an unknown parameter"),
        (b'{"jsonrpc":"2.0","id":1,"method":"lun.remove","params":{"driver":"iscsi",'
         b'"target":"t","lun":-3}}', -32602, "a negative LUN"),
        (b'{"jsonrpc":"2.0","id":1,"method":"device.open","params":{"device":"x",'
         b'"handler":"vdisk_nullio","attributes":{"size_mb":{"a":1}}}}', -32602,
         "an object as an attribute value"),
        (b'{"jsonrpc":"2.0","id":1,"method":"tree.get","params":{"path":"no/such"}}',
         -32001, "a path that is not there"),
        (b'{"jsonrpc":"2.0","id":1,"method":"device.close","params":{"device":"nosuch"}}',
         -32001, "a device that does not exist"),
    ]
    for raw, code, what in cases:
        c.send_raw(raw + b"\n")
        r = c.recv()
        check(r is not None, "%s: connection closed" % what)
        if r is None:
            break
        check(error_code(r) == code and isinstance(r["error"].get("message"), str) and
              isinstance(r["error"].get("data"), dict),
              "%s: got %s, not error %d with a message and data" % (what, r, code)) and ok(
                  "%s: %d %s" % (what, code, r["error"]["message"]))
        if code == -32601:
            check(r["error"]["data"].get("method") == "no.such",
                  "unknown method: data %s" % r["error"]["data"])
    # The tree without its stats nodes, and with them.
    lean = json.dumps(c.call("tree.get", {"stats": False}))
    full = json.dumps(c.call("tree.get"))
    check('"stats"' not in lean and '"stats"' in full,
          "tree.get stats:false still has stats nodes") and ok(
              "tree.get without stats: %d bytes, with: %d" % (len(lean), len(full)))
    # A notification is served and not answered: the next response is
    # the next request's.
    c.send({"jsonrpc": "2.0", "method": "tree.get"})
    r = c.call("tree.get", {"path": "handlers"}, rid="after")
    check(r and r.get("id") == "after" and "vdisk_nullio" in r.get("result", {}),
          "after a notification: %s" % r) and ok("a notification gets no response")
    # Two requests in one write, answered in order.
    c.send_raw(b'{"jsonrpc":"2.0","id":"a","method":"tree.get","params":{"path":"handlers"}}'
               b' \n\t{"jsonrpc":"2.0","id":"b","method":"rpc.methods"}\n')
    a, b = c.recv(), c.recv()
    check(a and b and a["id"] == "a" and b["id"] == "b", "pipelined: %s %s" % (a, b)) and ok(
        "two requests in one write answered in order")
    c.close()

with phase("errors that end the connection"):
    c = Client()
    c.send_raw(b'{"jsonrpc": "2.0", "id": 1, "method": tree.get}\n')
    r = c.recv()
    check(error_code(r) == -32700, "not JSON: %s" % r) and ok("not JSON: -32700")
    check(c.eof(), "not JSON: the connection stays open") and ok("then closed")
    c.close()
    c = Client()
    c.send_raw(b'{"jsonrpc":"2.0","id":1,"method":"tree.get","params":{"path":"')
    try:
        c.send_raw(b"a" * (2 << 20))
    except (BrokenPipeError, ConnectionResetError):
        pass
    r = c.recv()
    check(error_code(r) == -32600, "2 MiB request: %s" % r) and ok("2 MiB request: -32600")
    check(c.eof(), "2 MiB request: the connection stays open") and ok("then closed")
    c.close()
    c = Client()
    c.send_raw(b"\xff\xfe{}\n")
    r = c.recv()
    check(error_code(r) == -32700, "bad UTF-8: %s" % r) and ok("bad UTF-8: -32700")
    c.close()

with phase("a peer that is not root"):
    # The test's directory is 0700 (mktemp): uid 65534 may pass through
    # it for the test's length, so that the daemon's own check is what
    # stops it.
    sock_dir = os.path.dirname(SOCK)
    dir_mode = stat.S_IMODE(os.stat(sock_dir).st_mode)
    os.chmod(sock_dir, dir_mode | 0o001)
    os.chmod(SOCK, 0o666)
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(rfd)
        os.setgid(65534)
        os.setuid(65534)
        try:
            c = Client()
            try:
                c.send({"jsonrpc": "2.0", "id": 1, "method": "device.open",
                        "params": {"device": "evil", "handler": "vdisk_nullio"}})
            except BrokenPipeError:
                pass  # refused before the request was read: the answer is there
            r = c.recv()
            out = json.dumps({"resp": r, "eof": c.eof()})
        except Exception as e:  # noqa: BLE001
            out = json.dumps({"exception": str(e)})
        os.write(wfd, out.encode())
        os._exit(0)
    os.close(wfd)
    data = b""
    while True:
        d = os.read(rfd, 65536)
        if not d:
            break
        data += d
    os.waitpid(pid, 0)
    os.chmod(SOCK, 0o600)
    os.chmod(sock_dir, dir_mode)
    res = json.loads(data)
    check(error_code(res.get("resp")) == -32003 and res.get("eof"),
          "uid 65534: %s" % res) and ok("uid 65534: -32003, then closed")
    c = Client()
    r = c.call("tree.get", {"path": "devices"})
    check("evil" not in r["result"], "the refused peer created a device") and ok(
        "nothing changed")
    c.close()

with phase("clients that never read or never finish"):
    base = rss_kib()
    hog = Client()
    req = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tree.get"}).encode() + b"\n"
    hog.s.setblocking(False)
    sent = 0
    try:
        for _ in range(1000):
            hog.s.send(req)
            sent += 1
    except BlockingIOError:
        pass
    half = Client()
    half.send_raw(b'{"jsonrpc":"2.0","id":1,"meth')
    c = Client(timeout=10)
    t0 = time.monotonic()
    r = c.call("tree.get", {"path": "handlers"})
    dt = time.monotonic() - t0
    check(r and "result" in r, "another client while two misbehave: %s" % r) and ok(
        "another client served in %.3f s while one never reads (%d requests sent) and "
        "one never finishes" % (dt, sent))
    growth = (rss_kib() - base) / 1024
    bound = RSS_BOUND_SANITIZED_MIB if sanitized() else RSS_BOUND_MIB
    measured("RSS growth with a client that never reads: %.1f MiB (bound %d)" % (growth, bound))
    check(growth < bound, "RSS grew %.1f MiB" % growth)
    for x in (hog, half, c):
        x.close()

with phase("16 clients at once, the 17th refused"):
    clients = [Client() for _ in range(16)]
    for i, c in enumerate(clients):
        r = c.call("tree.get", {"path": "handlers"}, rid=i)
        check(r and r.get("id") == i, "client %d: %s" % (i, r))
    ok("16 clients served")
    extra = Client()
    check(extra.eof(), "a 17th client is kept") and ok("the 17th is closed at once")
    extra.close()
    for c in clients:
        c.close()
    time.sleep(0.2)
    c = Client()
    r = c.call("tree.get", {"path": "handlers"})
    check(r and "result" in r, "after the 16 left: %s" % r) and ok("a new client is served")
    c.close()

if failures:
    print("mgmt_rpc: %d failure(s)" % len(failures))
    sys.exit(1)
print("mgmt_rpc: all phases passed")
