#!/usr/bin/env python3
"""Canonical form of nft text for comparisons: `nft list` output and `modgatectl compile`
output become equal when they describe the same ruleset.

Drops the one-line preamble commands (`table F N {}`, `flush ...`, `add set ...`), counter
values and element expiry; prints every set's elements one per line, sorted, and a table's sets
and chains sorted by name (the kernel lists them in creation order, which means nothing: a chain
kept across an apply is listed before chains created with it)."""
import re
import sys


def canon(text: str) -> str:
    out = []
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        i += 1
        if re.match(r"^table \S+ \S+ \{\}$", line) or re.match(r"^(flush|add set|delete) ", line):
            continue
        if not line.strip():
            continue
        line = re.sub(r"counter packets \d+ bytes \d+", "counter", line)
        m = re.match(r"^(\s*)elements = \{ (.*)$", line)
        if m:
            body = m.group(2)
            while not body.endswith("}") and i < len(lines):
                body += " " + lines[i].strip()
                i += 1
            body = body[:-1].strip()
            elems = [re.sub(r" expires \S+", "", e.strip()) for e in body.split(",") if e.strip()]
            out.append(m.group(1) + "elements = {")
            out.extend(m.group(1) + "\t" + e for e in sorted(elems))
            out.append(m.group(1) + "}")
            continue
        out.append(line)
    return "\n".join(sort_blocks(out)) + "\n"


def sort_blocks(lines):
    """Within each table, its set and chain blocks sorted: sets (and maps) first, then chains."""
    out, blocks, i = [], [], 0
    while i < len(lines):
        line = lines[i]
        m = re.match(r"^\t(set|map|flowtable|chain) (\S+) \{$", line)
        if not m:
            if line == "}" and blocks:
                for _, block in sorted(blocks):
                    out.extend(block)
                blocks = []
            out.append(line)
            i += 1
            continue
        end = i + 1
        while end < len(lines) and lines[end] != "\t}":
            end += 1
        rank = 1 if m.group(1) == "chain" else 0
        blocks.append(((rank, m.group(2)), lines[i:end + 1]))
        i = end + 1
    return out


if __name__ == "__main__":
    data = open(sys.argv[1]).read() if len(sys.argv) > 1 and sys.argv[1] != "-" else sys.stdin.read()
    sys.stdout.write(canon(data))
