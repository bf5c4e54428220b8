"""Logins within bounds (issue 5, section 3), one scenario per command:

  login_limits.py timeout  PORT TARGET RSP_TIMEOUT
      a connection that never sends and one that dribbles Login Requests
      (each a PDU sent byte by byte, completed well within RspTimeout, the
      login never finished) are both closed within RspTimeout + 2 s
  login_limits.py sessions PORT TARGET_MAX2 TARGET_PER_INI1
      MaxSessions 2 and MaxSessionsPerInitiator 1 refuse the next session
      with Out of resources (0x0302); a reinstatement is not a new session;
      after a logout a new login succeeds
  login_limits.py conns    PORT TARGET
      (uscstd --max-logins-per-address 2 --max-connections 4) a connection
      beyond either cap is closed right after accept, without a byte; once
      others are gone new ones are served
  login_limits.py longrsp  PORT TARGET
      a Login Response text of ~30 KB goes out in pieces of at most 8192
      bytes chained with the C bit, each asked for by an empty Login Request

Every scenario ends with a normal login, served. Exit status 0 when all
checks pass; a message on stderr otherwise.
"""
import os
import socket
import struct
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from iscsi_client import Session, ProtocolError  # noqa: E402

OP_LOGIN_REQ, OP_LOGIN_RSP = 0x03, 0x23
IMMEDIATE, TRANSIT, CONTINUE = 0x40, 0x80, 0x40
LOGIN_MAX_DSL = 8192
INI = "iqn.2026-11.test:limits"


def check(cond, what):
    if not cond:
        sys.exit("FAIL: " + what)


def text(pairs):
    return b"".join(("%s=%s" % kv).encode() + b"\0" for kv in pairs)


def login_bhs(flags, isid, itt, cmd_sn=1, exp_stat_sn=0, dlen=0):
    b = bytearray(48)
    b[0] = OP_LOGIN_REQ | IMMEDIATE
    b[1] = flags
    b[5:8] = dlen.to_bytes(3, "big")
    b[8:14] = isid
    struct.pack_into(">IHHII", b, 16, itt, 0, 0, cmd_sn, exp_stat_sn)
    return bytes(b)


def pad(data):
    return data + b"\0" * ((4 - len(data) % 4) % 4)


def recv_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError("target closed the connection")
        buf += chunk
    return buf


def recv_login_rsp(sock):
    """(flags, status, tsih, data) of the next Login Response; its data
    segment must fit the login's 8192-byte limit."""
    b = recv_exact(sock, 48)
    check(b[0] & 0x3F == OP_LOGIN_RSP, "expected a Login Response, got opcode 0x%02x" % b[0])
    dlen = int.from_bytes(b[5:8], "big")
    check(dlen <= LOGIN_MAX_DSL, "Login Response with a %d-byte data segment, beyond the "
          "initiator's MaxRecvDataSegmentLength %d" % (dlen, LOGIN_MAX_DSL))
    data = recv_exact(sock, dlen + (4 - dlen % 4) % 4)[:dlen] if dlen else b""
    return b[1], (b[36] << 8) | b[37], struct.unpack(">H", b[14:16])[0], data


def closed_within(sock, seconds):
    """Seconds until the target closes @sock (it sends nothing), or None."""
    start = time.monotonic()
    sock.settimeout(0.2)
    while time.monotonic() - start < seconds:
        try:
            if sock.recv(1) == b"":
                return time.monotonic() - start
            sys.exit("FAIL: the target sent bytes on a connection it should close")
        except socket.timeout:
            continue
        except ConnectionResetError:
            return time.monotonic() - start
    return None


def normal_login(port, target, isid=b"\x40\0\0\0\x01\x01", initiator=INI):
    s = Session(port, timeout=10)
    s.login(initiator, target, isid, [])
    return s


def still_served(port, target):
    s = normal_login(port, target, b"\x40\0\0\0\x0f\x0f", INI + "-check")
    s.test_unit_ready()
    s.logout()


# ------------------------------------------------------------ timeout

def scenario_timeout(port, target, rsp_timeout):
    limit = rsp_timeout + 2
    idle = socket.create_connection(("127.0.0.1", port))
    idle_closed = []
    watcher = threading.Thread(target=lambda: idle_closed.append(closed_within(idle, limit + 1)))
    watcher.start()
    dribbler = socket.create_connection(("127.0.0.1", port))
    dribbler.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    start = time.monotonic()

    # The dribbler: Login Requests with the C bit (more text follows), each
    # sent a byte at a time and completed in about half of RspTimeout, so
    # that the target always has a PDU in hand that arrived recently.
    isid = b"\x40\0\0\0\x02\x02"
    pairs = [("InitiatorName", INI), ("TargetName", target), ("SessionType", "Normal")]
    chunk = text(pairs)
    per_byte = (rsp_timeout / 2.0) / (48 + len(pad(chunk)))
    closed_at = None
    dribbler.settimeout(0.05)
    try:
        while closed_at is None and time.monotonic() - start < limit + 4:
            # C=1, T=0, CSG operational.
            pdu = login_bhs(CONTINUE | (1 << 2), isid, 0x10, dlen=len(chunk)) + pad(chunk)
            for i in range(len(pdu)):
                dribbler.sendall(pdu[i:i + 1])
                time.sleep(per_byte)
            # The acknowledgement of the piece (or the close).
            deadline = time.monotonic() + 1
            got = b""
            while time.monotonic() < deadline:
                try:
                    part = dribbler.recv(4096)
                except socket.timeout:
                    continue
                if not part:
                    raise ConnectionResetError
                got += part
                if len(got) >= 48:
                    break
    except (BrokenPipeError, ConnectionResetError):
        closed_at = time.monotonic() - start
    check(closed_at is not None, "a login dribbling PDUs for %.1f s was not closed (RspTimeout %d)"
          % (time.monotonic() - start, rsp_timeout))
    check(closed_at <= limit + per_byte * 60,
          "the dribbling login was closed after %.1f s, beyond RspTimeout + 2 = %d s"
          % (closed_at, limit))
    print("dribbling login closed after %.1f s (RspTimeout %d)" % (closed_at, rsp_timeout))

    watcher.join()
    t = idle_closed[0]
    check(t is not None and t <= limit,
          "a connection that never sent was still open after %d s" % limit)
    check(t >= rsp_timeout - 1, "the silent connection was closed after %.1f s, before "
          "RspTimeout %d" % (t, rsp_timeout))
    print("silent connection closed after %.1f s" % t)
    still_served(port, target)


# ------------------------------------------------------------ sessions

def expect_refused(port, target, initiator, isid, what):
    s = Session(port, timeout=10)
    try:
        s.login(initiator, target, isid, [])
    except ProtocolError as e:
        check("class 3 detail 2" in str(e), "%s: expected status 0x0302, got %s" % (what, e))
        print("%s: refused with 0x0302 (Out of resources)" % what)
        return
    finally:
        s.close()
    sys.exit("FAIL: %s: the login succeeded" % what)


def scenario_sessions(port, tgt_max2, tgt_per_ini1):
    a = normal_login(port, tgt_max2, b"\x40\0\0\0\0\x01", INI + "-a")
    b = normal_login(port, tgt_max2, b"\x40\0\0\0\0\x02", INI + "-b")
    expect_refused(port, tgt_max2, INI + "-c", b"\x40\0\0\0\0\x03", "third session on MaxSessions 2")
    # A reinstatement (same initiator and ISID) replaces, it does not add.
    a2 = normal_login(port, tgt_max2, b"\x40\0\0\0\0\x01", INI + "-a")
    a.close()
    print("reinstatement on a full target: served")
    b.logout()
    time.sleep(0.5)  # the session is freed once its connection has closed
    c = normal_login(port, tgt_max2, b"\x40\0\0\0\0\x03", INI + "-c")
    print("after a logout, a new session: served")

    x = normal_login(port, tgt_per_ini1, b"\x40\0\0\0\0\x11", INI + "-x")
    expect_refused(port, tgt_per_ini1, INI + "-x", b"\x40\0\0\0\0\x12",
                   "second session of one initiator on MaxSessionsPerInitiator 1")
    y = normal_login(port, tgt_per_ini1, b"\x40\0\0\0\0\x13", INI + "-y")
    print("another initiator on the same target: served")
    x.logout()
    time.sleep(0.5)
    x2 = normal_login(port, tgt_per_ini1, b"\x40\0\0\0\0\x12", INI + "-x")
    print("after its logout, the initiator's new session: served")
    for s in (a2, c, y, x2):
        s.logout()


# ------------------------------------------------------------ connections

def idle_conn(port):
    s = socket.create_connection(("127.0.0.1", port))
    return s


def expect_dropped(port, what):
    s = idle_conn(port)
    t = closed_within(s, 2)
    s.close()
    check(t is not None, "%s: the connection stayed open" % what)
    print("%s: closed %.2f s after connecting" % (what, t))


def expect_kept(sock, what):
    check(closed_within(sock, 0.5) is None, "%s: the connection was closed" % what)


def scenario_conns(port, target):
    i1, i2 = idle_conn(port), idle_conn(port)
    expect_kept(i1, "first connection logging in")
    expect_kept(i2, "second connection logging in")
    expect_dropped(port, "third connection logging in from one address (cap 2)")
    i2.close()
    time.sleep(0.3)
    s1 = normal_login(port, target, b"\x40\0\0\0\0\x21")  # in the full feature phase
    s2 = normal_login(port, target, b"\x40\0\0\0\0\x22")
    print("logins after the others left: served")
    # i1 logging in, s1 and s2 logged in: 3 of 4. One more logging in fits.
    i3 = idle_conn(port)
    expect_kept(i3, "fourth connection")
    expect_dropped(port, "fifth connection (--max-connections 4)")
    # A flood of refused connections: the refusals are logged, rate-limited.
    for _ in range(200):
        c = idle_conn(port)
        c.close()
    # One more after a quiet second: its line says how many were dropped.
    time.sleep(1.2)
    expect_dropped(port, "connection after the flood")
    for s in (i1, i3):
        s.close()
    s1.logout()
    s2.logout()
    time.sleep(0.3)


# ------------------------------------------------------------ long response

def scenario_longrsp(port, target):
    nkeys = 600
    pairs = [("InitiatorName", INI), ("TargetName", target), ("SessionType", "Normal")]
    # Vendor keys nobody knows: each is answered NotUnderstood, so the
    # answer is as long as the request's key names (~30 KB).
    pairs += [("X-org.uscst.test.long-answer-key-%04d" % i, "v") for i in range(nkeys)]
    req = text(pairs)
    isid = b"\x40\0\0\0\x03\x03"
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(10)
    flags_final = TRANSIT | (1 << 2) | 3  # T=1, CSG operational, NSG full feature
    stat_sn = 0
    # The request, in pieces of 8192 bytes with the C bit, each answered
    # by an empty Login Response.
    off = 0
    while len(req) - off > LOGIN_MAX_DSL:
        piece = req[off:off + LOGIN_MAX_DSL]
        sock.sendall(login_bhs(CONTINUE | (1 << 2), isid, 0x20, exp_stat_sn=stat_sn,
                               dlen=len(piece)) + pad(piece))
        flags, status, _, data = recv_login_rsp(sock)
        check(status == 0 and not data, "request piece: status 0x%04x, %d bytes" %
              (status, len(data)))
        off += len(piece)
    piece = req[off:]
    sock.sendall(login_bhs(flags_final, isid, 0x20, exp_stat_sn=stat_sn, dlen=len(piece)) +
                 pad(piece))
    answer = b""
    pieces = 0
    while True:
        flags, status, tsih, data = recv_login_rsp(sock)
        check(status == 0, "login failed with status 0x%04x" % status)
        pieces += 1
        answer += data
        if flags & CONTINUE:
            check(not flags & TRANSIT, "a Login Response with both the C and the T bit")
            # Ask for the next piece with an empty Login Request.
            sock.sendall(login_bhs(flags_final, isid, 0x20, exp_stat_sn=stat_sn))
            continue
        break
    check(flags & TRANSIT and flags & 3 == 3, "last piece does not go to the full feature phase"
          " (flags 0x%02x)" % flags)
    check(tsih != 0, "no TSIH in the final Login Response")
    check(pieces >= 4, "a %d-byte answer came in %d piece(s)" % (len(answer), pieces))
    got = {}
    for p in answer.rstrip(b"\0").split(b"\0"):
        k, _, v = p.decode().partition("=")
        got[k] = v
    missing = [k for k, _ in pairs[3:] if got.get(k) != "NotUnderstood"]
    check(not missing, "%d vendor keys not answered NotUnderstood, e.g. %s" %
          (len(missing), missing[:2]))
    print("a %d-byte Login Response text in %d pieces of at most %d bytes, chained with the C bit"
          % (len(answer), pieces, LOGIN_MAX_DSL))
    sock.close()
    still_served(port, target)


def main():
    scenario, port = sys.argv[1], int(sys.argv[2])
    if scenario == "timeout":
        scenario_timeout(port, sys.argv[3], int(sys.argv[4]))
    elif scenario == "sessions":
        scenario_sessions(port, sys.argv[3], sys.argv[4])
    elif scenario == "conns":
        scenario_conns(port, sys.argv[3])
        still_served(port, sys.argv[3])
    elif scenario == "longrsp":
        scenario_longrsp(port, sys.argv[3])
    else:
        sys.exit("unknown scenario " + scenario)
    print("login_limits %s: all checks passed" % scenario)


if __name__ == "__main__":
    main()
