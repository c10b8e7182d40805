#!/usr/bin/python3
"""The DICOM PDUs one side sent on a TCP connection, read from a pcap (standard library only).

  pcapdul.py CAPTURE.pcap --from IP [--to IP:PORT]

Reassembles the payload each TCP connection carried from IP (to IP:PORT, when given) in
sequence order (retransmissions counted once), splits it into PDUs and prints one line per
connection, PDUs separated by spaces:
  A-ASSOCIATE-RQ P-DATA-TF P-DATA-TF A-ABORT(2,6)
A trailing partial PDU is shown as `partial(TYPE,GOT/NEED)`. Exit 0; 2 if the capture cannot be
read (only Ethernet/IPv4 pcap files, as tcpdump -w writes them).
"""
import argparse
import socket
import struct
import sys

NAMES = {1: "A-ASSOCIATE-RQ", 2: "A-ASSOCIATE-AC", 3: "A-ASSOCIATE-RJ", 4: "P-DATA-TF",
         5: "A-RELEASE-RQ", 6: "A-RELEASE-RP", 7: "A-ABORT"}


def packets(path):
    with open(path, "rb") as f:
        head = f.read(24)
        if len(head) < 24:
            raise ValueError("not a pcap file")
        magic = struct.unpack("<I", head[:4])[0]
        if magic in (0xA1B2C3D4, 0xA1B23C4D):
            e = "<"
        elif magic in (0xD4C3B2A1, 0x4D3CB2A1):
            e = ">"
        else:
            raise ValueError("not a pcap file")
        if struct.unpack(e + "I", head[20:24])[0] != 1:
            raise ValueError("link type is not Ethernet")
        while True:
            ph = f.read(16)
            if len(ph) < 16:
                return
            caplen = struct.unpack(e + "I", ph[8:12])[0]
            yield f.read(caplen)


def segments(frame):
    """(src, sport, dst, dport, seq, flags, payload) of an IPv4 TCP frame, else None."""
    if len(frame) < 14 or struct.unpack("!H", frame[12:14])[0] != 0x0800:
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    total = struct.unpack("!H", ip[2:4])[0]
    if ip[9] != 6:
        return None
    src, dst = socket.inet_ntoa(ip[12:16]), socket.inet_ntoa(ip[16:20])
    tcp = ip[ihl:total]
    sport, dport, seq = struct.unpack("!HHI", tcp[:8])
    off = (tcp[12] >> 4) * 4
    return src, sport, dst, dport, seq, tcp[13], tcp[off:]


def pdus(data):
    out, off = [], 0
    while off < len(data):
        if len(data) - off < 6:
            out.append(f"partial(header,{len(data) - off}/6)")
            break
        t, n = data[off], struct.unpack("!I", data[off + 2:off + 6])[0]
        name = NAMES.get(t, f"0x{t:02x}")
        if len(data) - off - 6 < n:
            out.append(f"partial({name},{len(data) - off - 6}/{n})")
            break
        body = data[off + 6:off + 6 + n]
        if t in (3, 7) and n == 4:
            name += f"({body[2]},{body[3]})"
        out.append(name)
        off += 6 + n
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("capture")
    p.add_argument("--from", dest="src", required=True, help="sender IP")
    p.add_argument("--to", help="receiver IP:PORT")
    a = p.parse_args()
    to_ip, to_port = (a.to.rsplit(":", 1) + [None])[:2] if a.to else (None, None)
    conns = {}  # (sport, dst, dport) -> {"isn": seq of SYN + 1, "data": {seq: payload}}
    order = []
    try:
        for frame in packets(a.capture):
            s = segments(frame)
            if s is None:
                continue
            src, sport, dst, dport, seq, flags, payload = s
            if src != a.src or (to_ip and dst != to_ip) or (to_port and dport != int(to_port)):
                continue
            key = (sport, dst, dport)
            if key not in conns:
                conns[key] = {"isn": None, "data": {}}
                order.append(key)
            c = conns[key]
            if flags & 0x02:  # SYN
                c["isn"] = (seq + 1) & 0xFFFFFFFF
            if payload:
                c["data"].setdefault(seq, payload)
    except (OSError, ValueError) as e:
        print(f"pcapdul: {a.capture}: {e}", file=sys.stderr)
        return 2
    for key in order:
        c = conns[key]
        if not c["data"]:
            print("(no data)")
            continue
        base = c["isn"] if c["isn"] is not None else min(c["data"])
        stream, gap = bytearray(), ""
        for seq in sorted(c["data"], key=lambda s: (s - base) & 0xFFFFFFFF):
            at = (seq - base) & 0xFFFFFFFF
            chunk = c["data"][seq]
            if at > len(stream):
                gap = f" gap(at {len(stream)})"  # a segment the capture missed
                break
            if at + len(chunk) > len(stream):
                stream += chunk[len(stream) - at:]
        print(" ".join(pdus(bytes(stream))) + gap)
    return 0


if __name__ == "__main__":
    sys.exit(main())
