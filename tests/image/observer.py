#!/usr/bin/python3
"""Reads the guest's observer serial port (nft monitor and ip monitor link, started before any
network unit) and stamps each line with the host's clock on arrival, so the guest's view of
when modgate's tables went in can be set against frames captured on the lab side with the same
clock. Arrival is never earlier than the event, so the comparison errs on the strict side.

  observer.py SOCKET OUT      connects to qemu's serial socket, appends "EPOCH LINE" to OUT
"""
import socket
import sys
import time


def main():
    path, out = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    for _ in range(100):
        try:
            s.connect(path)
            break
        except OSError:
            time.sleep(0.1)
    else:
        print(f"observer: cannot connect to {path}", file=sys.stderr)
        return 1
    buf = b""
    with open(out, "a", buffering=1) as f:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                return 0
            now = time.time()
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                f.write(f"{now:.6f} {line.decode(errors='replace').rstrip()}\n")


if __name__ == "__main__":
    sys.exit(main())
