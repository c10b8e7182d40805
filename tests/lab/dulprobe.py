#!/usr/bin/python3
"""Hand-made DICOM UL traffic for the gateway's lab tests (dul.py underneath).

  dulprobe.py malformed CASE --host H [--port 104] [--wait SECS]
      Opens a TCP connection, sends one malformed or out-of-order PDU (or part of one, or
      nothing) and reports how the other end answered and how fast:
        case=NAME answer=abort|rj|close|reset|none [source=S reason=R | result=.. source=.. reason=..]
             elapsed=SECONDS closed=yes|no
      `answer=none` means nothing came back within --wait (a hang). `closed` says whether the
      connection was closed after the answer. Exit 0 whenever the probe ran.
      Cases that need an established association first (names starting with "established-")
      open one with a Verification context, then misbehave.
  dulprobe.py malformed --list
  dulprobe.py dimse --host H --calling AE --called AE OPS...
      One association with Verification, Study Root FIND and CT contexts; runs OPS in order
      (echo | find | store:FILE | pipelined:FILE) and prints `op=NAME status=0xNNNN` for each
      final response, then `release=ok`. `pipelined:FILE` sends a C-STORE of FILE and a C-FIND
      in one write, then reads both responses: `op=pipelined store=0xNNNN find=0xNNNN`.
      Exit 0 when the association was released normally.
"""
import argparse
import socket
import struct
import sys
import time

import dul

GOOD = dict(called="PACS_MAIN", calling="PETCT1")
VERIFY = [(1, dul.VERIFICATION, [dul.IMPLICIT_LE])]


def rq(**kw):
    args = dict(GOOD, contexts=VERIFY)
    args.update(kw)
    return dul.associate_rq(**args)


def items_rq(items, **kw):
    """An RQ whose items are given raw (the fixed fields stay valid)."""
    return rq(items=items, **kw)


APP = dul.item(0x10, dul.uid(dul.APPLICATION_CONTEXT))
PC = dul.presentation_context_rq(1, dul.VERIFICATION, [dul.IMPLICIT_LE])
UI = dul.user_information(16384)


def echo_pdata(pc_id=1, msg_id=1):
    cmd = dul.encode_command({0x0002: dul.VERIFICATION, 0x0100: dul.C_ECHO, 0x0110: msg_id, 0x0800: dul.NO_DATASET})
    return dul.pdu(dul.P_DATA_TF, dul.pdv(pc_id, cmd, True, True))


def pc_with_overrunning_subitem():
    # abstract syntax sub-item claims 200 bytes inside a presentation context item of ~30
    body = bytes([1, 0, 0, 0]) + dul.item(0x30, dul.uid(dul.VERIFICATION), length=200) + \
        dul.item(0x40, dul.uid(dul.IMPLICIT_LE))
    return dul.item(0x20, body)


def overrunning_user_info():
    ui = dul.user_information(16384)
    return ui[:2] + struct.pack(">H", len(ui) - 4 + 100) + ui[4:]


# name -> (description, [chunks]); a chunk is bytes to send or a float: seconds to pause
CASES = {
    "oversize-rq": ("A-ASSOCIATE-RQ header claiming 1 MiB (the proxy allows 64 KiB)",
                    [dul.pdu(dul.ASSOCIATE_RQ, rq()[6:70], length=1 << 20)]),
    "oversize-max": ("A-ASSOCIATE-RQ header claiming 4 GiB - 1",
                     [dul.pdu(dul.ASSOCIATE_RQ, rq()[6:70], length=0xFFFFFFFF)]),
    "rq-too-short": ("A-ASSOCIATE-RQ of 10 bytes, too short for its fixed fields",
                     [dul.pdu(dul.ASSOCIATE_RQ, bytes([0, 1]) + bytes(8))]),
    "item-longer-than-pdu": ("user information item claiming 100 bytes more than the PDU holds",
                             [items_rq(APP + PC + overrunning_user_info())]),
    "subitem-longer-than-item": ("abstract syntax sub-item longer than its presentation context item",
                                 [items_rq(APP + pc_with_overrunning_subitem() + UI)]),
    "even-pc-id": ("presentation context id 2 (must be odd)",
                   [rq(contexts=[(2, dul.VERIFICATION, [dul.IMPLICIT_LE])])]),
    "duplicate-pc-id": ("two presentation contexts with id 1",
                        [rq(contexts=[(1, dul.VERIFICATION, [dul.IMPLICIT_LE]),
                                      (1, dul.CT_IMAGE, [dul.IMPLICIT_LE])])]),
    "uid-not-numeric": ("abstract syntax UID with letters",
                        [rq(contexts=[(1, "1.2.840.10008.1.x1", [dul.IMPLICIT_LE])])]),
    "two-app-contexts": ("two application context items",
                         [items_rq(APP + APP + PC + UI)]),
    "ae-control-calling": ("calling AE title with a control character (PET\\x01CT1)",
                           [rq(calling=b"PET\x01CT1")]),
    "ae-control-called": ("called AE title with a newline and an escape (PACS\\n\\x1bMAIN)",
                          [rq(called=b"PACS\n\x1bMAIN")]),
    "ae-blank-calling": ("calling AE title of 16 spaces",
                         [rq(calling=b" " * 16)]),
    "bad-protocol-version": ("protocol version 0x0002 (bit 0 clear)", [rq(version=2)]),
    "unknown-pdu-type": ("PDU type 0x09", [dul.pdu(0x09, bytes(4))]),
    "unknown-pdu-type-ff": ("PDU type 0xFF claiming 16 MiB", [dul.pdu(0xFF, bytes(4), length=1 << 24)]),
    "pdata-before-rq": ("P-DATA-TF (a C-ECHO command) before any association", [echo_pdata()]),
    "release-before-rq": ("A-RELEASE-RQ before any association", [dul.release_rq()]),
    "truncated-then-silence": ("the first 40 bytes of a valid A-ASSOCIATE-RQ, then nothing",
                               [rq()[:40]]),
    "header-only-then-silence": ("three bytes of a PDU header, then nothing", [rq()[:3]]),
    "silence": ("a connection that sends nothing", []),
    # After a valid association (these need a real acceptor).
    "established-pdv-longer-than-pdu": ("PDV item claiming 64 bytes more than its P-DATA-TF",
                                        ["ESTABLISH", b"PDV"]),
    "established-unaccepted-context": ("P-DATA-TF on presentation context 3, never proposed",
                                       ["ESTABLISH", echo_pdata(3)]),
    "established-pdata-over-max": ("P-DATA-TF longer than the maximum length the proxy offered",
                                   ["ESTABLISH", b"BIG"]),
    "established-rq-again": ("a second A-ASSOCIATE-RQ inside the association", ["ESTABLISH", rq()]),
    "established-abort-after-data": ("three valid C-ECHO P-DATA-TF, then a PDV longer than its PDU, in one write",
                                     ["ESTABLISH", b"DATA+PDV"]),
}


def classify(sock, wait, started):
    """Read the first answer: (answer, detail, elapsed)."""
    try:
        t, body = dul.recv_pdu(sock, wait)
    except socket.timeout:
        return "none", "", time.monotonic() - started
    except dul.PeerClosed as e:
        return "close", f'detail="{e}"', time.monotonic() - started
    except ConnectionError as e:
        return "reset", f'detail="{type(e).__name__}"', time.monotonic() - started
    elapsed = time.monotonic() - started
    if t == dul.ABORT and len(body) == 4:
        return "abort", f"source={body[2]} reason={body[3]}", elapsed
    if t == dul.ASSOCIATE_RJ and len(body) == 4:
        return "rj", f"result={body[1]} source={body[2]} reason={body[3]}", elapsed
    return "other", f'pdu="{dul.describe_pdu(t, body)}"', elapsed


def closed_after(sock, wait):
    try:
        sock.settimeout(wait)
        while True:
            data = sock.recv(65536)
            if not data:
                return "yes"
    except socket.timeout:
        return "no"
    except OSError:
        return "yes"


def establish(sock, wait):
    sock.sendall(rq())
    t, body = dul.recv_pdu(sock, wait)
    if t != dul.ASSOCIATE_AC:
        raise dul.DulError(f"could not establish: {dul.describe_pdu(t, body)}")
    return dul.parse_associate(body, is_rq=False)


def cmd_malformed(a):
    if a.list:
        for name, (desc, _) in CASES.items():
            print(f"{name:34} {desc}")
        return 0
    if a.case not in CASES:
        print(f"unknown case {a.case!r} (--list)", file=sys.stderr)
        return 2
    _, chunks = CASES[a.case]
    sock = socket.create_connection((a.host, a.port), timeout=a.wait)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    ac = None
    started = time.monotonic()
    try:
        for c in chunks:
            if c == "ESTABLISH":
                ac = establish(sock, a.wait)
                started = time.monotonic()
                continue
            if c in (b"PDV", b"DATA+PDV"):
                body = dul.pdv(1, echo_pdata()[12:], True, True)
                body = struct.pack(">I", len(body) - 4 + 64) + body[4:]
                bad = dul.pdu(dul.P_DATA_TF, body)
                # DATA+PDV: three valid C-ECHO requests (message ids 1..3) go first, in the
                # same write as the broken PDU
                c = bad if c == b"PDV" else b"".join(echo_pdata(1, i) for i in (1, 2, 3)) + bad
            elif c == b"BIG":
                limit = ac["max_pdu"] or (1 << 20)
                c = dul.pdu(dul.P_DATA_TF, dul.pdv(1, bytes(limit), True, False))
            sock.sendall(c)
    except dul.DulError as e:
        print(f"case={a.case} answer=error detail=\"{e}\"")
        return 1
    except OSError as e:  # the proxy may cut us off while we still send: that is an answer too
        print(f"# send interrupted: {type(e).__name__}", file=sys.stderr)
    answer, detail, elapsed = classify(sock, a.wait, started)
    closed = closed_after(sock, 3.0) if answer in ("abort", "rj", "other") else ("yes" if answer != "none" else "no")
    sock.close()
    print(f"case={a.case} answer={answer} {detail} elapsed={elapsed:.3f} closed={closed}".replace("  ", " "))
    return 0


def cmd_dimse(a):
    contexts = [(1, dul.VERIFICATION, [dul.IMPLICIT_LE]),
                (3, dul.STUDY_ROOT_FIND, [dul.IMPLICIT_LE]),
                (5, dul.CT_IMAGE, [dul.EXPLICIT_LE, dul.IMPLICIT_LE])]
    from pydicom import dcmread
    from pydicom.dataset import Dataset
    try:
        assoc, _ = dul.connect(a.host, a.port, a.called, a.calling, contexts, timeout=a.timeout)
    except (dul.DulError, OSError) as e:
        print(f"error: {e}")
        return 1
    print("accepted=" + ",".join(f"{pc}:{abstract}" for pc, (abstract, _) in sorted(assoc.contexts.items())))
    msg_id = 0
    try:
        for op in a.ops:
            msg_id += 1
            name, _, arg = op.partition(":")
            if name == "echo":
                pc, _ = assoc.context_for(dul.VERIFICATION)
                cmd = {0x0002: dul.VERIFICATION, 0x0100: dul.C_ECHO, 0x0110: msg_id, 0x0800: dul.NO_DATASET}
                data = None
            elif name == "find":
                pc, ts = assoc.context_for(dul.STUDY_ROOT_FIND)
                cmd = {0x0002: dul.STUDY_ROOT_FIND, 0x0100: dul.C_FIND, 0x0110: msg_id, 0x0700: 0,
                       0x0800: dul.DATASET_PRESENT}
                q = Dataset()
                q.QueryRetrieveLevel = "STUDY"
                q.StudyInstanceUID = ""
                data = dul.encode_dataset(q, ts)
            elif name == "store":
                ds = dcmread(arg)
                pc, ts = assoc.context_for(str(ds.SOPClassUID))
                cmd = {0x0002: str(ds.SOPClassUID), 0x0100: dul.C_STORE, 0x0110: msg_id, 0x0700: 0,
                       0x0800: dul.DATASET_PRESENT, 0x1000: str(ds.SOPInstanceUID)}
                data = dul.encode_dataset(ds, ts) if pc else None
            elif name == "pipelined":
                print(f"op=pipelined {pipelined(assoc, msg_id, arg, dcmread, Dataset)}", flush=True)
                msg_id += 1
                continue
            else:
                print(f"unknown op {op!r}", file=sys.stderr)
                return 2
            if pc is None:
                print(f"op={name} status=no-context")
                continue
            rsp, _ = assoc.request(pc, dul.encode_command(cmd), data)
            print(f"op={name} status=0x{rsp.get(0x0900, 0xFFFF):04x}", flush=True)
        assoc.release()
    except (dul.DulError, OSError) as e:
        print(f"error: {type(e).__name__}: {e}")
        return 1
    print("release=ok")
    return 0


def pipelined(assoc, msg_id, path, dcmread, Dataset):
    """A C-STORE and a C-FIND in one write; both responses, by message id."""
    ds = dcmread(path)
    spc, sts = assoc.context_for(str(ds.SOPClassUID))
    fpc, fts = assoc.context_for(dul.STUDY_ROOT_FIND)
    q = Dataset()
    q.QueryRetrieveLevel = "STUDY"
    q.StudyInstanceUID = ""
    out = assoc.encode_message(spc, dul.encode_command({
        0x0002: str(ds.SOPClassUID), 0x0100: dul.C_STORE, 0x0110: msg_id, 0x0700: 0,
        0x0800: dul.DATASET_PRESENT, 0x1000: str(ds.SOPInstanceUID)}), dul.encode_dataset(ds, sts))
    out += assoc.encode_message(fpc, dul.encode_command({
        0x0002: dul.STUDY_ROOT_FIND, 0x0100: dul.C_FIND, 0x0110: msg_id + 1, 0x0700: 0,
        0x0800: dul.DATASET_PRESENT}), dul.encode_dataset(q, fts))
    assoc.sock.sendall(out)
    got = {}
    while len(got) < 2:
        _, rsp, _ = assoc.receive_message()
        if rsp.get(0x0900, 0) in (0xFF00, 0xFF01):
            continue
        got[rsp.get(0x0120)] = rsp.get(0x0900, 0xFFFF)
    return f"store=0x{got.get(msg_id, 0xFFFF):04x} find=0x{got.get(msg_id + 1, 0xFFFF):04x}"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("malformed")
    m.add_argument("case", nargs="?")
    m.add_argument("--list", action="store_true")
    m.add_argument("--host")
    m.add_argument("--port", type=int, default=104)
    m.add_argument("--wait", type=float, default=10.0, help="seconds to wait for an answer (default 10)")
    d = sub.add_parser("dimse")
    d.add_argument("ops", nargs="+", help="echo | find | store:FILE")
    d.add_argument("--host", required=True)
    d.add_argument("--port", type=int, default=104)
    d.add_argument("--calling", default="PETCT1")
    d.add_argument("--called", default="PACS_MAIN")
    d.add_argument("--timeout", type=float, default=10.0)
    a = p.parse_args()
    if a.cmd == "malformed" and not a.list and (not a.case or not a.host):
        p.error("malformed needs CASE and --host (or --list)")
    return cmd_malformed(a) if a.cmd == "malformed" else cmd_dimse(a)


if __name__ == "__main__":
    sys.exit(main())
