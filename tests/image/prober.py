#!/usr/bin/python3
"""An attacker on the hospital side probing the modality's listeners in a loop, for the boot test.

Every INTERVAL seconds it tries a TCP connection to each port; a probe is answered when the
handshake completes or a reset comes back (ECONNREFUSED), or any ICMP error is reported. Runs
until SIGTERM, then writes {"probes": N, "answered": N, "answers": [...]} to --out.
--self-test probes a closed local port once and exits 0 only if that counts as answered, so a
prober that could never see an answer fails the test instead of passing it.
"""
import argparse
import errno
import json
import select
import signal
import socket
import sys
import time

TIMEOUT = 0.5


def probe_round(src, dst, ports):
    """One connection attempt per port; returns the list of (port, outcome) that answered."""
    pending = {}
    answered = []
    for port in ports:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        if src:
            s.bind((src, 0))
        rc = s.connect_ex((dst, port))
        if rc not in (errno.EINPROGRESS, 0):
            answered.append((port, errno.errorcode.get(rc, str(rc))))
            s.close()
            continue
        pending[s.fileno()] = (s, port)
    deadline = time.monotonic() + TIMEOUT
    while pending and time.monotonic() < deadline:
        _, ready, _ = select.select([], [p[0] for p in pending.values()], [], max(0.0, deadline - time.monotonic()))
        for s in ready:
            sock, port = pending.pop(s.fileno())
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            answered.append((port, "connected" if err == 0 else errno.errorcode.get(err, str(err))))
            sock.close()
    for sock, _ in pending.values():
        sock.close()
    return answered


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--src", default="")
    p.add_argument("--dst", required=True)
    p.add_argument("--ports", default="104,445,3389")
    p.add_argument("--interval", type=float, default=0.2)
    p.add_argument("--out")
    p.add_argument("--self-test", action="store_true")
    a = p.parse_args()
    ports = [int(x) for x in a.ports.split(",")]
    if a.self_test:
        return 0 if probe_round(a.src, a.dst, ports) else 1
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    probes, answers = 0, []
    while not stop:
        t = time.time()
        for port, outcome in probe_round(a.src, a.dst, ports):
            answers.append({"at": t, "port": port, "outcome": outcome})
        probes += len(ports)
        time.sleep(a.interval)
    with open(a.out, "w") as f:
        json.dump({"probes": probes, "answered": len(answers), "answers": answers[:20]}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
