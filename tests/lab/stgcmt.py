#!/usr/bin/python3
"""Storage commitment (Push Model, PS3.4 Annex J) as a modality plays it, for the lab.

dcmtk has no storage commitment tool and Debian 12 has no pynetdicom, so this is the scanner's
side in raw DICOM UL (dul.py) with pydicom datasets:

  1. listen on --listen first (the report may come back at once),
  2. open an association to the PACS, send N-ACTION (Action Type 1) asking it to commit the
     instances in FILES (plus --missing UIDs it never received), check the N-ACTION-RSP,
     release,
  3. accept the PACS's NEW association (PS3.4 J.3.3.1.3: the report arrives on an association
     the SCP opens), answer its N-EVENT-REPORT, wait for its release,
  4. print what was committed and what failed.

Output (one fact per line, for the test to assert on):
  n_action status=0x0000 transaction=UID requested=N
  report_association peer=IP calling=AE called=AE roles=SCU/SCP-as-proposed
  committed SOP_INSTANCE_UID
  failed SOP_INSTANCE_UID reason=0xNNNN
  report event_type=1|2 transaction_match=yes committed=N failed=M release=ok
Exit 0 when a report for our transaction arrived and was answered, and it accounts for every
requested instance; 1 otherwise; 2 on bad usage.
"""
import argparse
import os
import socket
import sys
import time

import dul


def read_instances(paths):
    from pydicom import dcmread
    files = []
    for p in paths:
        if os.path.isdir(p):
            for root, _, names in os.walk(p):
                files += [os.path.join(root, n) for n in sorted(names)]
        else:
            files.append(p)
    out = []
    for f in files:
        ds = dcmread(f, stop_before_pixels=True)
        out.append((str(ds.SOPClassUID), str(ds.SOPInstanceUID)))
    return out


def action_dataset(transaction, instances):
    from pydicom.dataset import Dataset
    ds = Dataset()
    ds.TransactionUID = transaction
    refs = []
    for sop_class, sop_instance in instances:
        r = Dataset()
        r.ReferencedSOPClassUID = sop_class
        r.ReferencedSOPInstanceUID = sop_instance
        refs.append(r)
    ds.ReferencedSOPSequence = refs
    return dul.encode_dataset(ds)


def send_action(a, instances, transaction):
    assoc, _ = dul.connect(a.host, a.port, a.called, a.calling,
                           [(1, dul.STORAGE_COMMITMENT, [dul.IMPLICIT_LE])], timeout=a.timeout)
    pc_id, _ = assoc.context_for(dul.STORAGE_COMMITMENT)
    if pc_id is None:
        raise dul.DulError("the PACS did not accept the Storage Commitment Push Model context")
    command = dul.encode_command({
        0x0003: dul.STORAGE_COMMITMENT, 0x0100: dul.N_ACTION, 0x0110: 1, 0x0800: dul.DATASET_PRESENT,
        0x1001: dul.STORAGE_COMMITMENT_INSTANCE, 0x1008: 1})
    rsp, _ = assoc.request(pc_id, command, action_dataset(transaction, instances))
    status = rsp.get(0x0900, -1)
    print(f"n_action status=0x{status:04x} transaction={transaction} requested={len(instances)}", flush=True)
    assoc.release()
    return status == 0


def serve_report(a, listener, transaction):
    """Accept associations until one carries the report for `transaction`; returns the result."""
    deadline = time.monotonic() + a.timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout(f"no N-EVENT-REPORT within {a.timeout:.0f}s")
        listener.settimeout(left)
        conn, peer = listener.accept()
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            result = one_report_association(a, conn, peer, transaction)
        finally:
            conn.close()
        if result is not None:
            return result


def one_report_association(a, conn, peer, transaction):
    t, body = dul.recv_pdu(conn, a.timeout)
    if t != dul.ASSOCIATE_RQ:
        print(f"unexpected {dul.describe_pdu(t, body)} from {peer[0]}", flush=True)
        return None
    rq = dul.parse_associate(body, is_rq=True)
    if rq["called"] != a.calling:  # we are the modality: the report must be addressed to us
        conn.sendall(dul.associate_rj(1, 1, 7))
        print(f"rejected association from {peer[0]}: called AE {rq['called']!r}", flush=True)
        return None
    results, contexts = [], {}
    for c in rq["contexts"]:
        if c["abstract"] != dul.STORAGE_COMMITMENT:
            results.append((c["id"], 3, dul.IMPLICIT_LE))
        elif dul.IMPLICIT_LE in c["transfer"] or dul.EXPLICIT_LE in c["transfer"]:
            ts = dul.IMPLICIT_LE if dul.IMPLICIT_LE in c["transfer"] else dul.EXPLICIT_LE
            results.append((c["id"], 0, ts))
            contexts[c["id"]] = (c["abstract"], ts)
        else:
            results.append((c["id"], 4, dul.IMPLICIT_LE))
    # Role selection: the PACS sends the report as the SCP of the SOP class while it is the
    # association requestor; accept the roles exactly as proposed.
    roles = b"".join(dul.role_selection(uid, scu, scp) for uid, scu, scp in rq["roles"])
    role_text = ",".join(f"{scu}/{scp}" for _, scu, scp in rq["roles"]) or "default"
    conn.sendall(dul.associate_ac(rq, results, max_pdu=16384, roles=roles))
    print(f"report_association peer={peer[0]} calling={rq['calling']} called={rq['called']} roles={role_text}",
          flush=True)
    assoc = dul.Association(conn, rq["max_pdu"], contexts, a.timeout)
    report = None
    while True:
        try:
            pc_id, cmd, data = assoc.receive_message()
        except dul.DulError:
            if assoc.released:
                conn.sendall(dul.release_rp())
                if report is not None:
                    report["release"] = "ok"
                return report
            raise
        if cmd.get(0x0100) != dul.N_EVENT_REPORT or data is None:
            raise dul.DulError(f"unexpected command 0x{cmd.get(0x0100, 0):04x} on the report association")
        ts = contexts.get(pc_id, (None, dul.IMPLICIT_LE))[1]
        ds = dul.decode_dataset(data, ts)
        event_type = cmd.get(0x1002, 0)
        rsp = dul.encode_command({
            0x0002: dul.STORAGE_COMMITMENT, 0x0100: dul.N_EVENT_REPORT | dul.RESPONSE, 0x0120: cmd.get(0x0110, 0),
            0x0800: dul.NO_DATASET, 0x0900: 0x0000, 0x1000: cmd.get(0x1000, dul.STORAGE_COMMITMENT_INSTANCE),
            0x1002: event_type})
        assoc.send_message(pc_id, rsp)
        got = str(ds.get("TransactionUID", ""))
        committed = [str(r.ReferencedSOPInstanceUID) for r in ds.get("ReferencedSOPSequence", [])]
        failed = [(str(r.ReferencedSOPInstanceUID), int(r.get("FailureReason", 0)))
                  for r in ds.get("FailedSOPSequence", [])]
        if got != transaction:
            print(f"report for another transaction {got}", flush=True)
            continue
        report = {"event_type": event_type, "committed": committed, "failed": failed, "release": "no"}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("files", nargs="+", help="DICOM files or directories the PACS was sent")
    p.add_argument("--host", required=True, help="the PACS")
    p.add_argument("--port", type=int, default=104)
    p.add_argument("--calling", required=True, help="our AE title (the modality's)")
    p.add_argument("--called", required=True, help="the PACS's AE title")
    p.add_argument("--listen", type=int, default=104, help="port of our SCP for the report")
    p.add_argument("--missing", type=int, default=0, help="also ask for N instances the PACS never received")
    p.add_argument("--timeout", type=float, default=30.0)
    a = p.parse_args()

    from pydicom.uid import generate_uid
    instances = read_instances(a.files)
    instances += [(dul.CT_IMAGE, generate_uid(prefix="1.2.826.0.1.3680043.8.498.")) for _ in range(a.missing)]
    transaction = generate_uid(prefix="1.2.826.0.1.3680043.8.498.")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", a.listen))
    listener.listen(4)
    try:
        if not send_action(a, instances, transaction):
            return 1
        report = serve_report(a, listener, transaction)
    except (dul.DulError, OSError) as e:
        print(f"error: {type(e).__name__}: {e}", flush=True)
        return 1
    for uid in report["committed"]:
        print(f"committed {uid}")
    for uid, reason in report["failed"]:
        print(f"failed {uid} reason=0x{reason:04x}")
    print(f"report event_type={report['event_type']} transaction_match=yes committed={len(report['committed'])} "
          f"failed={len(report['failed'])} release={report['release']}", flush=True)
    asked = {i for _, i in instances}
    told = set(report["committed"]) | {i for i, _ in report["failed"]}
    return 0 if asked == told and report["release"] == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
