"""A small DICOM Upper Layer (PS3.8) and DIMSE toolkit for the lab's test clients.

Raw PDUs over plain sockets: encoders for every PDU and item (so tests can also build broken
ones), a PDU reader with a deadline, A-ASSOCIATE-RQ/AC parsing, command sets in Implicit VR
Little Endian, and an Association that sends and receives whole DIMSE messages in PDVs no
larger than the peer's maximum length. Datasets are encoded and decoded with pydicom (run
/usr/bin/python3). Standard library + pydicom only; used by stgcmt.py and dulprobe.py.
"""
import io
import socket
import struct
import time

# PDU types (PS3.8 9.3)
ASSOCIATE_RQ, ASSOCIATE_AC, ASSOCIATE_RJ, P_DATA_TF, RELEASE_RQ, RELEASE_RP, ABORT = range(1, 8)
PDU_NAMES = {1: "A-ASSOCIATE-RQ", 2: "A-ASSOCIATE-AC", 3: "A-ASSOCIATE-RJ", 4: "P-DATA-TF",
             5: "A-RELEASE-RQ", 6: "A-RELEASE-RP", 7: "A-ABORT"}

APPLICATION_CONTEXT = "1.2.840.10008.3.1.1.1"
IMPLICIT_LE = "1.2.840.10008.1.2"
EXPLICIT_LE = "1.2.840.10008.1.2.1"
IMPLEMENTATION_CLASS_UID = "1.2.826.0.1.3680043.8.498.1.2"  # pydicom's root, lab tools
IMPLEMENTATION_VERSION = "MODGATE_LAB_DUL"

VERIFICATION = "1.2.840.10008.1.1"
STORAGE_COMMITMENT = "1.2.840.10008.1.20.1"            # Storage Commitment Push Model SOP Class
STORAGE_COMMITMENT_INSTANCE = "1.2.840.10008.1.20.1.1"  # its well-known SOP instance
STUDY_ROOT_FIND = "1.2.840.10008.5.1.4.1.2.2.1"
CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
PET_IMAGE = "1.2.840.10008.5.1.4.1.1.128"
MR_IMAGE = "1.2.840.10008.5.1.4.1.1.4"

# DIMSE command fields (PS3.7 E.1)
C_STORE, C_FIND, C_ECHO = 0x0001, 0x0020, 0x0030
N_EVENT_REPORT, N_ACTION = 0x0100, 0x0130
RESPONSE = 0x8000
NO_DATASET = 0x0101
DATASET_PRESENT = 0x0000  # any value but 0x0101 means a dataset follows


class DulError(Exception):
    pass


class PeerClosed(DulError):
    pass


# ---- encoding ------------------------------------------------------------------------------

def pdu(pdu_type, body, length=None):
    """A PDU; `length` overrides the header's length field (for broken PDUs)."""
    return struct.pack(">BBI", pdu_type, 0, len(body) if length is None else length) + body


def item(item_type, payload, length=None):
    return struct.pack(">BBH", item_type, 0, len(payload) if length is None else length) + payload


def ae_field(title):
    """A 16-byte AE title field, space padded; bytes are taken as they are (control characters
    included, for tests)."""
    raw = title if isinstance(title, bytes) else title.encode("ascii")
    return raw[:16].ljust(16, b" ")


def uid(text):
    return text if isinstance(text, bytes) else text.encode("ascii")


def presentation_context_rq(pc_id, abstract_syntax, transfer_syntaxes):
    body = bytes([pc_id, 0, 0, 0]) + item(0x30, uid(abstract_syntax))
    body += b"".join(item(0x40, uid(ts)) for ts in transfer_syntaxes)
    return item(0x20, body)


def role_selection(sop_class, scu, scp):
    u = uid(sop_class)
    return item(0x54, struct.pack(">H", len(u)) + u + bytes([scu, scp]))


def user_information(max_pdu, roles=b"", impl_uid=IMPLEMENTATION_CLASS_UID, impl_version=IMPLEMENTATION_VERSION):
    return item(0x50, item(0x51, struct.pack(">I", max_pdu)) + item(0x52, uid(impl_uid)) + roles
                + item(0x55, impl_version.encode("ascii")))


def associate_rq(called, calling, contexts, max_pdu=16384, roles=b"", version=1, items=None):
    """contexts: [(id, abstract syntax, [transfer syntaxes])]; `items` replaces every item."""
    body = struct.pack(">HH", version, 0) + ae_field(called) + ae_field(calling) + bytes(32)
    if items is None:
        items = item(0x10, uid(APPLICATION_CONTEXT))
        items += b"".join(presentation_context_rq(*c) for c in contexts)
        items += user_information(max_pdu, roles)
    return pdu(ASSOCIATE_RQ, body + items)


def associate_ac(rq, results, max_pdu=16384, roles=b""):
    """The AC for a parsed RQ; results: [(id, result, transfer syntax)]."""
    body = struct.pack(">HH", 1, 0) + ae_field(rq["called_raw"]) + ae_field(rq["calling_raw"]) + bytes(32)
    body += item(0x10, uid(APPLICATION_CONTEXT))
    for pc_id, result, ts in results:
        body += item(0x21, bytes([pc_id, 0, result, 0]) + item(0x40, uid(ts or IMPLICIT_LE)))
    body += user_information(max_pdu, roles)
    return pdu(ASSOCIATE_AC, body)


def associate_rj(result, source, reason):
    return pdu(ASSOCIATE_RJ, bytes([0, result, source, reason]))


def release_rq():
    return pdu(RELEASE_RQ, bytes(4))


def release_rp():
    return pdu(RELEASE_RP, bytes(4))


def abort(source=0, reason=0):
    return pdu(ABORT, bytes([0, 0, source, reason]))


def pdv(pc_id, data, command, last):
    header = (1 if command else 0) | (2 if last else 0)
    return struct.pack(">IBB", len(data) + 2, pc_id, header) + data


# ---- parsing -------------------------------------------------------------------------------

def parse_items(data):
    """[(type, payload)] of a run of items; refuses an item longer than what remains."""
    out, off = [], 0
    while off < len(data):
        if len(data) - off < 4:
            raise DulError(f"item header cut short at {off}")
        t, _, n = struct.unpack_from(">BBH", data, off)
        if off + 4 + n > len(data):
            raise DulError(f"item 0x{t:02x} at {off} claims {n} bytes, {len(data) - off - 4} remain")
        out.append((t, data[off + 4:off + 4 + n]))
        off += 4 + n
    return out


def text(raw):
    return raw.rstrip(b"\0").decode("ascii", "replace").strip()


def parse_user_info(payload, into):
    for t, v in parse_items(payload):
        if t == 0x51:
            into["max_pdu"] = struct.unpack(">I", v)[0]
        elif t == 0x52:
            into["impl_uid"] = text(v)
        elif t == 0x54:
            n = struct.unpack_from(">H", v)[0]
            into["roles"].append((text(v[2:2 + n]), v[2 + n], v[3 + n]))


def parse_associate(body, is_rq):
    """A-ASSOCIATE-RQ or -AC body (after the 6-byte header)."""
    if len(body) < 68:
        raise DulError(f"A-ASSOCIATE body of {len(body)} bytes")
    out = {"version": struct.unpack_from(">H", body)[0], "called_raw": body[4:20], "calling_raw": body[20:36],
           "called": text(body[4:20]), "calling": text(body[20:36]), "contexts": [], "max_pdu": 0,
           "roles": [], "app_context": None}
    for t, v in parse_items(body[68:]):
        if t == 0x10:
            out["app_context"] = text(v)
        elif t == 0x20 and is_rq:
            sub = parse_items(v[4:])
            out["contexts"].append({"id": v[0], "abstract": next((text(x) for s, x in sub if s == 0x30), ""),
                                    "transfer": [text(x) for s, x in sub if s == 0x40]})
        elif t == 0x21 and not is_rq:
            sub = parse_items(v[4:])
            out["contexts"].append({"id": v[0], "result": v[2],
                                    "transfer": next((text(x) for s, x in sub if s == 0x40), "")})
        elif t == 0x50:
            parse_user_info(v, out)
    return out


def recv_exact(sock, n, deadline):
    buf = bytearray()
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            raise socket.timeout(f"timed out with {len(buf)} of {n} bytes")
        sock.settimeout(left)
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise PeerClosed(f"peer closed after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def recv_pdu(sock, timeout, max_length=1 << 24):
    """(type, body) of the next PDU; raises socket.timeout, PeerClosed or ConnectionError."""
    deadline = time.monotonic() + timeout
    header = recv_exact(sock, 6, deadline)
    t, _, n = struct.unpack(">BBI", header)
    if n > max_length:
        raise DulError(f"PDU type 0x{t:02x} claims {n} bytes")
    return t, recv_exact(sock, n, deadline)


def describe_pdu(t, body):
    name = PDU_NAMES.get(t, f"PDU 0x{t:02x}")
    if t == ASSOCIATE_RJ and len(body) == 4:
        return f"{name} result={body[1]} source={body[2]} reason={body[3]}"
    if t == ABORT and len(body) == 4:
        return f"{name} source={body[2]} reason={body[3]}"
    return f"{name} length={len(body)}"


# ---- command sets (PS3.7 E, Implicit VR Little Endian) --------------------------------------

# element -> kind, for encoding and decoding group 0000
CMD_UI = {0x0002, 0x0003, 0x1000, 0x1001}
CMD_US = {0x0100, 0x0110, 0x0120, 0x0700, 0x0800, 0x0900, 0x1002, 0x1008, 0x1020, 0x1021, 0x1022, 0x1023, 0x1031}
CMD_AE = {0x0600, 0x1030}


def encode_command(fields):
    """fields: {element: value}; (0000,0000) is computed."""
    body = b""
    for elem in sorted(fields):
        v = fields[elem]
        if elem in CMD_UI:
            raw = uid(v)
            raw += b"\0" * (len(raw) % 2)
        elif elem in CMD_US:
            raw = struct.pack("<H", v)
        elif elem in CMD_AE:
            raw = ae_field(v)
        else:
            raw = v if isinstance(v, bytes) else str(v).encode("ascii")
            raw += b" " * (len(raw) % 2)
        body += struct.pack("<HHI", 0, elem, len(raw)) + raw
    return struct.pack("<HHII", 0, 0, 4, len(body)) + body


def decode_command(data):
    out, off = {}, 0
    while off + 8 <= len(data):
        group, elem, n = struct.unpack_from("<HHI", data, off)
        v = data[off + 8:off + 8 + n]
        off += 8 + n
        if group != 0:
            raise DulError(f"command element ({group:04x},{elem:04x}) outside group 0000")
        if elem in CMD_US and n == 2:
            out[elem] = struct.unpack("<H", v)[0]
        elif elem == 0x0000 and n == 4:
            out[elem] = struct.unpack("<I", v)[0]
        else:
            out[elem] = text(v)
    return out


def encode_dataset(ds, transfer_syntax=IMPLICIT_LE):
    from pydicom.filebase import DicomBytesIO
    from pydicom.filewriter import write_dataset
    fp = DicomBytesIO()
    fp.is_little_endian = True
    fp.is_implicit_VR = transfer_syntax == IMPLICIT_LE
    write_dataset(fp, ds)
    return fp.getvalue()


def decode_dataset(data, transfer_syntax=IMPLICIT_LE):
    from pydicom.filereader import read_dataset
    return read_dataset(io.BytesIO(data), is_implicit_VR=transfer_syntax == IMPLICIT_LE, is_little_endian=True)


# ---- an association ------------------------------------------------------------------------

class Association:
    """One established association on a connected socket, either end."""

    def __init__(self, sock, peer_max_pdu, contexts, timeout=30.0):
        self.sock = sock
        self.peer_max_pdu = peer_max_pdu or (1 << 20)  # 0 = unlimited; keep PDUs sane anyway
        self.contexts = contexts  # id -> (abstract syntax, transfer syntax)
        self.timeout = timeout
        self.next_id = 1
        self.released = False

    def context_for(self, abstract):
        for pc_id, (a, ts) in self.contexts.items():
            if a == abstract:
                return pc_id, ts
        return None, None

    def encode_message(self, pc_id, command, dataset=None):
        """One DIMSE message as P-DATA-TF PDUs (command PDVs, then dataset PDVs), each within
        the peer's maximum length."""
        chunk = self.peer_max_pdu - 6  # the PDV header (4 + 2) counts against the PDU length
        out = b""
        for payload, is_command in ((command, True), (dataset, False)):
            if payload is None:
                continue
            off = 0
            while True:
                part = payload[off:off + chunk]
                off += len(part)
                last = off >= len(payload)
                out += pdu(P_DATA_TF, pdv(pc_id, part, is_command, last))
                if last:
                    break
        return out

    def send_message(self, pc_id, command, dataset=None):
        self.sock.sendall(self.encode_message(pc_id, command, dataset))

    def receive_message(self):
        """(pc_id, command dict, dataset bytes or None); raises DulError on A-RELEASE-RQ
        (self.released set), A-ABORT or anything unexpected."""
        command, dataset, pc, have_command, want_data = b"", b"", None, False, False
        while True:
            t, body = recv_pdu(self.sock, self.timeout)
            if t == RELEASE_RQ:
                self.released = True
                raise DulError("peer asked for release")
            if t != P_DATA_TF:
                raise DulError(f"expected P-DATA-TF, got {describe_pdu(t, body)}")
            off = 0
            while off < len(body):
                n, pc_id, mch = struct.unpack_from(">IBB", body, off)
                data = body[off + 6:off + 4 + n]
                off += 4 + n
                pc = pc_id
                if mch & 1:
                    command += data
                    if mch & 2:
                        have_command = True
                        fields = decode_command(command)
                        want_data = fields.get(0x0800, NO_DATASET) != NO_DATASET
                        if not want_data:
                            return pc, fields, None
                else:
                    dataset += data
                    if mch & 2:
                        if not have_command:
                            raise DulError("dataset before its command")
                        return pc, fields, dataset

    def request(self, pc_id, command, dataset=None):
        """Send a request, return the final response (pending responses are skipped)."""
        self.send_message(pc_id, command, dataset)
        while True:
            _, rsp, data = self.receive_message()
            if rsp.get(0x0900, 0) not in (0xFF00, 0xFF01):
                return rsp, data

    def release(self):
        self.sock.sendall(release_rq())
        t, body = recv_pdu(self.sock, self.timeout)
        if t != RELEASE_RP:
            raise DulError(f"release answered with {describe_pdu(t, body)}")
        self.sock.close()


def connect(host, port, called, calling, contexts, max_pdu=16384, roles=b"", timeout=30.0, source=None):
    """Open an association; returns (Association, parsed AC). Raises DulError with the RJ or
    A-ABORT as text when refused."""
    sock = socket.create_connection((host, port), timeout=timeout, source_address=source)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.sendall(associate_rq(called, calling, contexts, max_pdu, roles))
    t, body = recv_pdu(sock, timeout)
    if t != ASSOCIATE_AC:
        sock.close()
        raise DulError(f"association refused: {describe_pdu(t, body)}")
    ac = parse_associate(body, is_rq=False)
    proposed = {c[0]: c[1] for c in contexts}
    accepted = {c["id"]: (proposed.get(c["id"]), c["transfer"]) for c in ac["contexts"] if c["result"] == 0}
    return Association(sock, ac["max_pdu"], accepted, timeout), ac
