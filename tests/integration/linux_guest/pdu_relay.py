#!/usr/bin/env python3
# qemu's guestfwd command for one connection of the guest (host.sh):
# relays the guest's iSCSI connection (stdin/stdout) to uscstd on
# 127.0.0.1:PORT, as socat would, and appends a line to EVENTS for each
# NOP PDU that passes, so that a test can count on the wire what neither
# side logs:
#   <unix time> <conn id> NOP-IN-PING ttt=...     the target pings (TTT set)
#   <unix time> <conn id> NOP-OUT-ANSWER ttt=...  the initiator answers one
#   <unix time> <conn id> NOP-OUT-PING itt=...    the initiator pings itself
#   <unix time> <conn id> OPEN port=PORT          (PORT: uscstd's portal)
#   <unix time> <conn id> CLOSED unanswered-commands=N  (SCSI Commands
#                         relayed whose status never came back)
# PDUs are framed from their BHS (AHS length, data segment length with
# padding). Digests must be off: open-iscsi's default, and the guest tests
# that use the relay negotiate none (a CRC32C digest would shift the
# framing, and the counts would come out wrong rather than the relay
# guessing). While the file EVENTS.freeze exists the relay reads nothing
# from the target, as a peer that is gone takes nothing (see frozen()).
#
#   pdu_relay.py PORT EVENTS
import os
import socket
import sys
import threading
import time

port, events = int(sys.argv[1]), sys.argv[2]
conn_id = "%d.%d" % (int(time.time()), os.getpid())
log_lock = threading.Lock()


def log(what):
    with log_lock:
        with open(events, "a") as f:
            f.write("%.3f %s %s\n" % (time.time(), conn_id, what))


# ITTs of the SCSI Commands that went to the target and whose status has
# not come back through the relay (a SCSI Response, or a Data-In with the
# S bit): at CLOSED, what the target still held, or had not yet sent.
pending = set()
pending_lock = threading.Lock()


def note_pdu(bhs, from_guest):
    opcode = bhs[0] & 0x3F
    itt = int.from_bytes(bhs[16:20], "big")
    ttt = int.from_bytes(bhs[20:24], "big")
    with pending_lock:
        if opcode == 0x01 and from_guest:
            pending.add(itt)
        elif not from_guest and (opcode == 0x21 or (opcode == 0x25 and bhs[1] & 0x01)):
            pending.discard(itt)
    if opcode == 0x20 and not from_guest and itt == 0xFFFFFFFF and ttt != 0xFFFFFFFF:
        log("NOP-IN-PING ttt=0x%08x" % ttt)
    elif opcode == 0x00 and from_guest:
        if itt == 0xFFFFFFFF and ttt != 0xFFFFFFFF:
            log("NOP-OUT-ANSWER ttt=0x%08x" % ttt)
        elif itt != 0xFFFFFFFF:
            log("NOP-OUT-PING itt=0x%08x" % itt)


def frozen():
    """While EVENTS.freeze exists nothing is read from the target: a dead
    peer's TCP window closes, and the target's sends back up into its own
    queue. (qemu's user network would otherwise take everything the
    target sends, however long the guest is gone.)"""
    return os.path.exists(events + ".freeze")


def pump(read, write, from_guest, done):
    buf = b""
    want = 48  # bytes of the PDU being framed; its BHS first
    try:
        while True:
            while not from_guest and frozen():
                time.sleep(0.05)
            chunk = read()
            if not chunk:
                break
            write(chunk)
            buf += chunk
            while len(buf) >= want:
                bhs = buf[:48]
                ahs = bhs[4] * 4
                dlen = int.from_bytes(bhs[5:8], "big")
                total = 48 + ahs + ((dlen + 3) & ~3)
                if len(buf) < total:
                    want = total
                    break
                note_pdu(bhs, from_guest)
                buf = buf[total:]
                want = 48
    except OSError:
        pass
    done.set()


def main():
    # stderr may be the guest's connection too: a traceback must not go
    # there as if it were a PDU.
    sys.stderr = open(events + ".err", "a")
    target = socket.create_connection(("127.0.0.1", port))
    log("OPEN port=%d" % port)
    done = threading.Event()
    # qemu hands over its end of the guest's connection non-blocking.
    os.set_blocking(0, True)
    os.set_blocking(1, True)

    def to_target(data):
        target.sendall(data)

    def to_guest(data):
        view = memoryview(data)
        while view:
            view = view[os.write(1, view):]
    threading.Thread(target=pump, args=(lambda: os.read(0, 65536), to_target, True, done),
                     daemon=True).start()
    threading.Thread(target=pump, args=(lambda: target.recv(65536), to_guest, False, done),
                     daemon=True).start()
    # Either side closing ends the relay, as socat does.
    done.wait()
    with pending_lock:
        log("CLOSED unanswered-commands=%d" % len(pending))
    try:
        target.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    os._exit(0)


main()
