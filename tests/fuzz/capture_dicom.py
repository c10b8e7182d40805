#!/usr/bin/python3
"""Relays one TCP connection and records it as a dicom_decoder fuzz input.

Usage: capture_dicom.py LISTEN_PORT TARGET_PORT OUTPUT [FLAGS]

Accepts one connection on 127.0.0.1:LISTEN_PORT, connects to 127.0.0.1:TARGET_PORT, relays
both directions until both are closed, and writes OUTPUT in the format of
dicom_fuzz_input.hpp: FLAGS (default 1: with the policy filter), then one record per recv()
with its direction (0 = the connecting side, the association initiator). The recv() sizes are
the splits a real proxy sees. Standard library only.
"""
import select
import socket
import struct
import sys


def main():
    listen_port, target_port, output = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    flags = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", listen_port))
    server.listen(1)
    server.settimeout(30)
    client, _ = server.accept()
    upstream = socket.create_connection(("127.0.0.1", target_port), timeout=30)
    peers = {client: (upstream, 0), upstream: (client, 1)}
    records = bytearray([flags])
    open_socks = [client, upstream]
    while open_socks:
        readable, _, _ = select.select(open_socks, [], [], 30)
        if not readable:
            break
        for sock in readable:
            data = sock.recv(65536)
            other, side = peers[sock]
            if not data:
                open_socks.remove(sock)
                try:
                    other.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
                continue
            for at in range(0, len(data), 0xFFFF):
                chunk = data[at:at + 0xFFFF]
                records += struct.pack("<BH", side, len(chunk)) + chunk
            other.sendall(data)
    with open(output, "wb") as out:
        out.write(records)


if __name__ == "__main__":
    main()
