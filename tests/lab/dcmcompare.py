#!/usr/bin/python3
"""Compares DICOM files element by element outside group 0002 (the file meta header).

  dcmcompare.py A.dcm B.dcm        two files
  dcmcompare.py DIR_A DIR_B        every instance, matched by SOPInstanceUID (recursive)

Values are compared byte for byte as encoded (both sides are decoded only where the byte
order differs); sequences are compared item by item. Exit 0 identical, 1 any difference,
2 usage or unreadable input. Messages name tags, lengths and offsets, never values of
patient elements beyond a short prefix.
"""
import argparse
import os
import sys

from pydicom import dcmread
from pydicom.datadict import dictionary_VR, keyword_for_tag
from pydicom.dataelem import RawDataElement
from pydicom.errors import InvalidDicomError
from pydicom.tag import Tag


class Unreadable(Exception):
    pass


def tag_name(tag):
    try:
        kw = keyword_for_tag(tag)
    except Exception:
        kw = ""
    return f"({tag.group:04X},{tag.element:04X}){' ' + kw if kw else ''}"


def resolved_vr(elem, tag):
    vr = elem.VR
    if vr is None or vr == "":
        try:
            vr = dictionary_VR(tag)
        except KeyError:
            vr = "UN"
    return vr


def short(value, limit=40):
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def describe_bytes(a, b):
    if len(a) != len(b):
        return f"lengths differ: {len(a)} vs {len(b)} bytes"
    first = next(i for i in range(len(a)) if a[i] != b[i])
    return f"{len(a)} bytes each, first difference at byte {first}"


TEXT_VRS = {"AE", "AS", "CS", "DA", "DS", "DT", "IS", "LO", "SH", "TM", "UI"}


def shown(tag, vr, xa, xb):
    """A short look at short text values; nothing from the patient group (0010)."""
    if vr not in TEXT_VRS or tag.group == 0x0010:
        return ""
    return f" ({short(xa.decode('latin-1'), 24)} vs {short(xb.decode('latin-1'), 24)})"


def compare(a, b, where, diffs, ignore):
    tags = sorted(set(a.keys()) | set(b.keys()))
    for tag in tags:
        tag = Tag(tag)
        if tag.group == 0x0002 or tag in ignore:
            continue
        loc = f"{where}{tag_name(tag)}"
        if tag not in a:
            diffs.append(f"{loc}: only in the second dataset")
            continue
        if tag not in b:
            diffs.append(f"{loc}: only in the first dataset")
            continue
        ra, rb = a.get_item(tag), b.get_item(tag)
        va, vb = resolved_vr(ra, tag), resolved_vr(rb, tag)
        if "SQ" in (va, vb) and va != "UN" and vb != "UN":
            if va != vb:
                diffs.append(f"{loc}: VR differs: {va} vs {vb}")
                continue
            sa, sb = a[tag].value, b[tag].value
            if len(sa) != len(sb):
                diffs.append(f"{loc}: item count differs: {len(sa)} vs {len(sb)}")
                continue
            for i, (ia, ib) in enumerate(zip(sa, sb)):
                compare(ia, ib, f"{loc}[{i}] > ", diffs, ignore)
            continue
        # A transfer-syntax change may legitimately turn an unknown VR into UN, and implicit VR
        # leaves some VRs ambiguous ("OB or OW"); the bytes still count.
        if not (set(va.split(" or ")) & set(vb.split(" or "))) and "UN" not in (va, vb):
            diffs.append(f"{loc}: VR differs: {va} vs {vb}")
            continue
        both_raw = isinstance(ra, RawDataElement) and isinstance(rb, RawDataElement)
        if both_raw and ra.is_little_endian == rb.is_little_endian:
            xa, xb = ra.value or b"", rb.value or b""
            if xa != xb:
                diffs.append(f"{loc}: value differs: {describe_bytes(xa, xb)}{shown(tag, va, xa, xb)}")
            continue
        da, db = a[tag].value, b[tag].value
        if da != db:
            if isinstance(da, bytes) and isinstance(db, bytes):
                diffs.append(f"{loc}: value differs: {describe_bytes(da, db)}")
            else:
                diffs.append(f"{loc}: value differs: {short(da)} vs {short(db)}")


def read(path):
    try:
        return dcmread(path)
    except InvalidDicomError as e:
        raise Unreadable(f"{path}: not a DICOM file ({e})")
    except OSError as e:
        raise Unreadable(f"{path}: {e.strerror or e}")
    except Exception as e:  # pydicom raises assorted errors on truncated or corrupt input
        raise Unreadable(f"{path}: cannot parse: {e}")


def compare_files(pa, pb, ignore, limit):
    diffs = []
    compare(read(pa), read(pb), "", diffs, ignore)
    return [f"{pa} vs {pb}: {d}" for d in diffs[:limit]] + (
        [f"{pa} vs {pb}: ... and {len(diffs) - limit} more"] if len(diffs) > limit else [])


def index_dir(root):
    """SOPInstanceUID -> path for every DICOM file under root; other files are skipped."""
    found, skipped = {}, 0
    for dirpath, _, names in os.walk(root):
        for name in sorted(names):
            path = os.path.join(dirpath, name)
            try:
                ds = dcmread(path, stop_before_pixels=True, specific_tags=["SOPInstanceUID"])
                key = str(ds.SOPInstanceUID)
            except (InvalidDicomError, AttributeError, OSError, EOFError):
                skipped += 1
                continue
            except Exception:
                skipped += 1
                continue
            if key in found:
                raise Unreadable(f"{root}: SOPInstanceUID {key} occurs twice "
                                 f"({found[key]} and {path})")
            found[key] = path
    return found, skipped


def main():
    p = argparse.ArgumentParser(description="Compare DICOM files outside group 0002.")
    p.add_argument("a")
    p.add_argument("b")
    p.add_argument("--allow-extra", action="store_true",
                   help="directories: the second may hold instances the first lacks")
    p.add_argument("--ignore", action="append", default=[], metavar="GGGG,EEEE",
                   help="skip this tag (repeatable)")
    p.add_argument("--max-diffs", type=int, default=20, help="per file pair (default 20)")
    p.add_argument("-q", "--quiet", action="store_true", help="print only differences")
    args = p.parse_args()
    try:
        ignore = {Tag(int(t.split(",")[0], 16), int(t.split(",")[1], 16)) for t in args.ignore}
    except (ValueError, IndexError):
        p.error("--ignore takes GGGG,EEEE in hex")

    try:
        if os.path.isdir(args.a) != os.path.isdir(args.b):
            raise Unreadable("compare two files or two directories, not one of each")
        if not os.path.isdir(args.a):
            problems = compare_files(args.a, args.b, ignore, args.max_diffs)
            count = 1
        else:
            ia, skipped_a = index_dir(args.a)
            ib, skipped_b = index_dir(args.b)
            if not ia:
                raise Unreadable(f"{args.a}: no DICOM files")
            problems = [f"{args.b}: missing SOPInstanceUID {k} (from {ia[k]})"
                        for k in sorted(ia.keys() - ib.keys())]
            if not args.allow_extra:
                problems += [f"{args.b}: extra SOPInstanceUID {k} ({ib[k]})"
                             for k in sorted(ib.keys() - ia.keys())]
            for k in sorted(ia.keys() & ib.keys()):
                problems += compare_files(ia[k], ib[k], ignore, args.max_diffs)
            count = len(ia.keys() & ib.keys())
            if not args.quiet and (skipped_a or skipped_b):
                print(f"dcmcompare: skipped non-DICOM files: {skipped_a} in {args.a}, "
                      f"{skipped_b} in {args.b}")
    except Unreadable as e:
        print(f"dcmcompare: error: {e}", file=sys.stderr)
        return 2

    for line in problems:
        print(f"dcmcompare: DIFFERENT: {line}", file=sys.stderr)
    if problems:
        print(f"dcmcompare: FAIL: {len(problems)} difference(s)", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"dcmcompare: OK: {count} instance(s) identical outside group 0002")
    return 0


if __name__ == "__main__":
    sys.exit(main())
