#!/usr/bin/python3
"""The lab's small network services and clients, standard library only.

  serve  recording TCP/UDP listeners, a TLS server, an SNTP server and a syslog sink in one
         process; every connection, datagram and message is a logfmt line in --log
  dns | sntp | tcp | udp | tls   one-shot clients that exit 0 only on a correct answer
  spoof  send one UDP datagram with any source address (raw socket; probes and leak checks)
  scan-summary  condense an nmap -oX file: port counts per state, or the ports in one state

Log lines (one per event, flushed at once) are what tests assert on, e.g.
  event=tcp_close name=scanner local=10.20.30.40:445 peer=10.20.30.66:40112 rx=5 tx=25
"""
import argparse
import os
import random
import signal
import socket
import ssl
import struct
import sys
import threading
import time

NTP_EPOCH_OFFSET = 2208988800  # seconds from 1900-01-01 to 1970-01-01


class Log:
    def __init__(self, path, name):
        self.name = name
        self.lock = threading.Lock()
        self.f = open(path, "a", buffering=1) if path else sys.stdout

    def __call__(self, event, **kv):
        parts = [f"event={event}", f"name={self.name}"]
        for k, v in kv.items():
            v = str(v)
            parts.append(f'{k}="{v}"' if (" " in v or not v) else f"{k}={v}")
        with self.lock:
            self.f.write(f"ts={time.time():.6f} " + " ".join(parts) + "\n")


def addr(a):
    return f"{a[0]}:{a[1]}"


def ports(text):
    if not text:
        return []
    return [int(p) for p in text.replace(" ", ",").split(",") if p]


def spawn(fn, *args):
    t = threading.Thread(target=fn, args=args, daemon=True)
    t.start()
    return t


# ---- servers -------------------------------------------------------------------------------

def tcp_session(log, conn, peer, banner, kind, extra):
    rx = tx = 0
    local = addr(conn.getsockname())
    try:
        conn.settimeout(30)
        if banner:
            conn.sendall(banner)
            tx += len(banner)
        while True:
            data = conn.recv(65536)
            if not data:
                break
            rx += len(data)
            conn.sendall(data)  # echo: a client can prove both directions work
            tx += len(data)
    except (OSError, ssl.SSLError) as e:
        extra = dict(extra, error=type(e).__name__)
    finally:
        conn.close()
        log(f"{kind}_close", local=local, peer=addr(peer), rx=rx, tx=tx, **extra)


def tcp_listener(log, bind, port, name):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((bind, port))
    s.listen(64)
    banner = f"{name} tcp/{port}\r\n".encode()

    def loop():
        while True:
            conn, peer = s.accept()
            log("tcp_accept", local=addr(conn.getsockname()), peer=addr(peer))
            spawn(tcp_session, log, conn, peer, banner, "tcp", {})
    spawn(loop)


def tls_listener(log, bind, port, name, cert, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    seen = threading.local()

    def on_sni(sock, server_name, _ctx):
        seen.sni = server_name  # recorded, not enforced: SNI policy is modgate's job
    ctx.sni_callback = on_sni
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((bind, port))
    s.listen(64)
    banner = f"{name} tls/{port}\r\n".encode()

    def handshake(conn, peer):
        seen.sni = None
        local = addr(conn.getsockname())
        try:
            conn.settimeout(15)
            tconn = ctx.wrap_socket(conn, server_side=True)
        except (OSError, ssl.SSLError) as e:
            log("tls_fail", local=local, peer=addr(peer), sni=seen.sni or "-",
                error=type(e).__name__)
            conn.close()
            return
        sni = seen.sni or "-"
        log("tls_accept", local=local, peer=addr(peer), sni=sni, version=tconn.version())
        tcp_session(log, tconn, peer, banner, "tls", {"sni": sni})

    def loop():
        while True:
            conn, peer = s.accept()
            spawn(handshake, conn, peer)
    spawn(loop)


def ntp_reply(request, now):
    li_vn_mode = request[0]
    version = (li_vn_mode >> 3) & 7 or 4
    secs = now + NTP_EPOCH_OFFSET
    stamp = struct.pack("!II", int(secs), int((secs % 1) * 2 ** 32))
    return (struct.pack("!BBbb", (version << 3) | 4, 2, 6, -20)  # server, stratum 2
            + struct.pack("!II", 0, 0) + b"LAB\0"
            + stamp + request[40:48] + stamp + stamp)  # ref, originate, receive, transmit


def udp_listener(log, bind, port, name, kind):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((bind, port))
    prefix = f"{name} udp/{port} ".encode()

    def loop():
        while True:
            data, peer = s.recvfrom(65535)
            local = f"{s.getsockname()[0]}:{port}"
            if kind == "sntp":
                if len(data) < 48:
                    log("sntp_bad", local=local, peer=addr(peer), len=len(data))
                    continue
                s.sendto(ntp_reply(data, time.time()), peer)
                log("sntp", local=local, peer=addr(peer))
            elif kind == "syslog":
                log("syslog", local=local, peer=addr(peer), msg=data.decode("utf-8", "replace").strip())
            else:
                s.sendto(prefix + data[:64], peer)  # any answer makes nmap report "open"
                log("udp", local=local, peer=addr(peer), len=len(data))
    spawn(loop)


def syslog_tcp_listener(log, bind, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((bind, port))
    s.listen(16)

    def session(conn, peer):
        buf = b""
        local = addr(conn.getsockname())
        with conn:
            while True:
                data = conn.recv(65536)
                if not data:
                    break
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    log("syslog", local=local, peer=addr(peer), transport="tcp",
                        msg=line.decode("utf-8", "replace").strip())

    def loop():
        while True:
            conn, peer = s.accept()
            spawn(session, conn, peer)
    spawn(loop)


def cmd_serve(a):
    log = Log(a.log, a.name)
    for p in ports(a.tcp):
        tcp_listener(log, a.bind, p, a.name)
    for p in ports(a.udp):
        udp_listener(log, a.bind, p, a.name, "echo")
    for p in ports(a.tls):
        tls_listener(log, a.bind, p, a.name, a.cert, a.key)
    for p in ports(a.sntp):
        udp_listener(log, a.bind, p, a.name, "sntp")
    for p in ports(a.syslog):
        udp_listener(log, a.bind, p, a.name, "syslog")
        syslog_tcp_listener(log, a.bind, p)
    log("ready", pid=os.getpid())
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    while True:
        signal.pause()


# ---- clients -------------------------------------------------------------------------------

QTYPES = {"A": 1, "PTR": 12, "AAAA": 28, "TXT": 16}
RCODES = {0: "NOERROR", 1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"}


def dns_name(msg, off):
    labels, jumped, end = [], False, off
    for _ in range(128):
        n = msg[off]
        if n >= 0xC0:
            if not jumped:
                end = off + 2
            off, jumped = ((n & 0x3F) << 8) | msg[off + 1], True
            continue
        off += 1
        if n == 0:
            break
        labels.append(msg[off:off + n].decode("ascii", "replace"))
        off += n
    return ".".join(labels), (end if jumped else off)


def cmd_dns(a):
    qtype = QTYPES[a.type]
    name = a.name
    if a.type == "PTR" and not name.endswith(".arpa"):
        name = ".".join(reversed(name.split("."))) + ".in-addr.arpa"
    qid = random.randrange(65536)
    q = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(l)]) + l.encode() for l in name.rstrip(".").split(".")) + b"\0"
    q += struct.pack("!HH", qtype, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(a.timeout)
    try:
        s.sendto(q, (a.server, 53))
        while True:
            msg, peer = s.recvfrom(4096)
            if peer[0] == a.server and msg[:2] == q[:2]:
                break
    except (socket.timeout, OSError) as e:
        print(f"dns: no answer from {a.server} for {name}: {e}", file=sys.stderr)
        return 1
    flags, qd, an = struct.unpack("!HHH", msg[2:8])
    rcode = flags & 0xF
    off = 12
    for _ in range(qd):
        _, off = dns_name(msg, off)
        off += 4
    answers = []
    for _ in range(an):
        _, off = dns_name(msg, off)
        rtype, _, _, rdlen = struct.unpack("!HHIH", msg[off:off + 10])
        off += 10
        rdata = msg[off:off + rdlen]
        if rtype == 1:
            answers.append(socket.inet_ntoa(rdata))
        elif rtype == 12:
            answers.append(dns_name(msg, off)[0])
        elif rtype == 28:
            answers.append(socket.inet_ntop(socket.AF_INET6, rdata))
        off += rdlen
    if rcode != 0 or not answers:
        print(f"dns: {name} {a.type}: {RCODES.get(rcode, rcode)}, {len(answers)} answer(s)",
              file=sys.stderr)
        return 1
    for ans in answers:
        print(ans)
    return 0


def cmd_sntp(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(a.timeout)
    t1 = time.time()
    secs = t1 + NTP_EPOCH_OFFSET
    xmit = struct.pack("!II", int(secs), int((secs % 1) * 2 ** 32))
    try:
        s.sendto(b"\x23" + b"\0" * 39 + xmit, (a.server, a.port))  # v4, client
        while True:
            data, peer = s.recvfrom(1024)
            if peer[0] == a.server:
                break
    except (socket.timeout, OSError) as e:
        print(f"sntp: no answer from {a.server}:{a.port}: {e}", file=sys.stderr)
        return 1
    t4 = time.time()
    if len(data) < 48 or data[0] & 7 != 4 or data[24:32] != xmit:
        print(f"sntp: bad reply from {a.server} (mode {data[0] & 7 if data else '-'}, "
              f"originate {'ok' if data[24:32] == xmit else 'mismatch'})", file=sys.stderr)
        return 1
    hi, lo = struct.unpack("!II", data[40:48])
    server_time = hi - NTP_EPOCH_OFFSET + lo / 2 ** 32
    print(f"stratum={data[1]} offset={server_time - (t1 + t4) / 2:+.6f} rtt={t4 - t1:.6f}")
    return 0


def cmd_tcp(a):
    try:
        s = socket.create_connection((a.host, a.port), timeout=a.timeout)
    except OSError as e:
        print(f"tcp: {a.host}:{a.port}: {e}", file=sys.stderr)
        return 1
    return exchange(s, a, "tcp")


def exchange(s, a, kind):
    """Read the banner, send --send, read the echo back."""
    try:
        s.settimeout(a.timeout)
        banner = b""
        while not banner.endswith(b"\n"):
            chunk = s.recv(4096)
            if not chunk:
                break
            banner += chunk
        print(banner.decode("utf-8", "replace").strip())
        if a.send:
            payload = a.send.encode()
            s.sendall(payload)
            got = b""
            while len(got) < len(payload):
                chunk = s.recv(65536)
                if not chunk:
                    break
                got += chunk
            if got != payload:
                print(f"{kind}: echo mismatch: sent {len(payload)} bytes, got {len(got)}",
                      file=sys.stderr)
                return 1
            print(got.decode("utf-8", "replace"))
    except (OSError, ssl.SSLError) as e:
        print(f"{kind}: {a.host}:{a.port}: {e}", file=sys.stderr)
        return 1
    finally:
        s.close()
    return 0 if banner else 1


def cmd_udp(a):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(a.timeout)
    try:
        s.sendto((a.send or "ping").encode(), (a.host, a.port))
        data, _ = s.recvfrom(65535)
    except (socket.timeout, OSError) as e:
        print(f"udp: {a.host}:{a.port}: {e}", file=sys.stderr)
        return 1
    print(data.decode("utf-8", "replace"))
    return 0


def cmd_tls(a):
    ctx = ssl.create_default_context(cafile=a.ca) if a.ca else ssl._create_unverified_context()
    try:
        raw = socket.create_connection((a.host, a.port), timeout=a.timeout)
        s = ctx.wrap_socket(raw, server_hostname=a.sni)
    except (OSError, ssl.SSLError, ssl.CertificateError) as e:
        print(f"tls: {a.host}:{a.port} sni={a.sni}: {e}", file=sys.stderr)
        return 1
    cert = s.getpeercert() or {}
    sans = ",".join(v for k, v in cert.get("subjectAltName", ()) if k == "DNS")
    print(f"version={s.version()} verified={'yes' if a.ca else 'no'} san={sans or '-'}")
    return exchange(s, a, "tls")


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def cmd_spoof(a):
    payload = (a.send or "modgate-lab spoof").encode()
    src, dst = socket.inet_aton(a.src), socket.inet_aton(a.dst)
    udp_len = 8 + len(payload)
    pseudo = src + dst + struct.pack("!BBH", 0, socket.IPPROTO_UDP, udp_len)
    udp = struct.pack("!HHHH", a.sport, a.dport, udp_len, 0) + payload
    csum = checksum(pseudo + udp) or 0xFFFF
    udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + udp_len, random.randrange(65536), 0, 64,
                     socket.IPPROTO_UDP, 0, src, dst)
    ip = ip[:10] + struct.pack("!H", checksum(ip)) + ip[12:]
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)  # implies IP_HDRINCL
    try:
        s.sendto(ip + udp, (a.dst, 0))
    except OSError as e:
        print(f"spoof: {a.src} -> {a.dst}:{a.dport}: {e}", file=sys.stderr)
        return 1
    return 0


def cmd_scan_summary(a):
    import collections
    import xml.etree.ElementTree as ET
    try:
        root = ET.parse(a.file).getroot()
    except (OSError, ET.ParseError) as e:
        print(f"scan-summary: {a.file}: {e}", file=sys.stderr)
        return 2
    hosts = root.find("runstats/hosts")
    up = int(hosts.get("up", 0)) if hosts is not None else 0
    lines = [f"hosts up={up} down={hosts.get('down', '?') if hosts is not None else '?'}"]
    if a.host:
        states = [h.find("status").get("state") for h in root.iter("host")
                  if a.host in {x.get("addr") for x in h.findall("address")}]
        lines = [f"host {a.host} {states[0] if states else 'absent'}"]
    found = collections.defaultdict(lambda: collections.defaultdict(list))
    counts = collections.defaultdict(collections.Counter)
    for host in root.iter("host"):
        addrs = {x.get("addr") for x in host.findall("address")}
        if a.host and a.host not in addrs:
            continue
        ports = host.find("ports")
        if ports is None:
            continue
        for ep in ports.findall("extraports"):
            # extraports has no protocol; nmap scans one protocol per run in our use
            proto = a.proto or "tcp"
            counts[proto][ep.get("state")] += int(ep.get("count"))
        for p in ports.findall("port"):
            state = p.find("state").get("state")
            counts[p.get("protocol")][state] += 1
            found[p.get("protocol")][state].append(int(p.get("portid")))
    if a.ports or a.count:
        proto = a.proto or "tcp"
        if a.ports:
            print(",".join(str(p) for p in sorted(found[proto][a.ports])))
        else:
            print(counts[proto][a.count])
        return 0
    for proto in sorted(counts):
        total = sum(counts[proto].values())
        parts = [f"{state}={n}" for state, n in sorted(counts[proto].items())]
        listed = [f"{state}:{','.join(map(str, sorted(found[proto][state])))}"
                  for state in ("open", "open|filtered") if found[proto][state]]
        lines.append(f"{proto} total={total} " + " ".join(parts + listed))
    print("\n".join(lines))
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--name", required=True)
    s.add_argument("--log")
    s.add_argument("--bind", default="0.0.0.0")
    s.add_argument("--tcp", help="comma-separated ports: banner + echo")
    s.add_argument("--udp", help="ports that answer every datagram")
    s.add_argument("--tls", help="ports: TLS with --cert/--key, records SNI, then echo")
    s.add_argument("--cert")
    s.add_argument("--key")
    s.add_argument("--sntp", help="ports: SNTP server (stratum 2)")
    s.add_argument("--syslog", help="ports: syslog sink on UDP and TCP")
    c = sub.add_parser("dns")
    c.add_argument("name")
    c.add_argument("--server", required=True)
    c.add_argument("--type", choices=sorted(QTYPES), default="A")
    c = sub.add_parser("sntp")
    c.add_argument("server")
    c.add_argument("--port", type=int, default=123)
    for kind in ("tcp", "udp", "tls"):
        c = sub.add_parser(kind)
        c.add_argument("host")
        c.add_argument("port", type=int)
        c.add_argument("--send", help="payload to send; tcp/tls expect it echoed")
        if kind == "tls":
            c.add_argument("--sni", required=True)
            c.add_argument("--ca", help="verify the chain and name against this CA file")
    c = sub.add_parser("spoof")
    c.add_argument("--src", required=True)
    c.add_argument("--dst", required=True)
    c.add_argument("--sport", type=int, default=40000)
    c.add_argument("--dport", type=int, default=9)
    c.add_argument("--send")
    c = sub.add_parser("scan-summary")
    c.add_argument("file", help="nmap -oX output")
    c.add_argument("--proto", choices=["tcp", "udp"], help="default tcp")
    c.add_argument("--host", help="only this target (default: all targets, counts summed)")
    g = c.add_mutually_exclusive_group()
    g.add_argument("--ports", metavar="STATE", help="print the ports in this state, comma-separated")
    g.add_argument("--count", metavar="STATE", help="print how many ports are in this state")
    for c in sub.choices.values():
        if c is not s and c.prog.split()[-1] not in ("spoof", "scan-summary"):
            c.add_argument("--timeout", type=float, default=3.0)
    a = p.parse_args()
    return {"serve": cmd_serve, "dns": cmd_dns, "sntp": cmd_sntp, "tcp": cmd_tcp,
            "udp": cmd_udp, "tls": cmd_tls, "spoof": cmd_spoof,
            "scan-summary": cmd_scan_summary}[a.cmd](a)


if __name__ == "__main__":
    sys.exit(main())
