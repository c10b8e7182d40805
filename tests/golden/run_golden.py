#!/usr/bin/env python3
"""Golden tests for the policy compiler and validator.

  policy/ok/NAME.toml   -> `modgatectl compile` output must equal NAME.nft, and `modgatectl check`
                           output NAME.check (exit 0)
  policy/fail/NAME.toml -> `modgatectl check` must exit 1 and print exactly NAME.err

Run with --regen to rewrite the expected files from the current build; review them as a diff.
Commands run inside the golden directory with the bare file name, so messages say NAME.toml."""
import argparse
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent


def run(ctl, args, cwd):
    p = subprocess.run([ctl, *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr


def check_file(path: pathlib.Path, actual: str, regen: bool, failures: list):
    if regen:
        path.write_text(actual)
        return
    if not path.exists():
        failures.append(f"{path}: missing (run with --regen)")
        return
    expected = path.read_text()
    if expected != actual:
        import difflib
        diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True),
                                            str(path), "actual"))
        failures.append(f"{path}: output differs\n{diff}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--modgatectl", required=True)
    ap.add_argument("--regen", action="store_true")
    a = ap.parse_args()
    ctl = str(pathlib.Path(a.modgatectl).resolve())
    failures = []
    count = 0
    ok_dir, fail_dir = HERE / "policy" / "ok", HERE / "policy" / "fail"
    for toml in sorted(ok_dir.glob("*.toml")):
        count += 1
        rc, out, err = run(ctl, ["check", toml.name], ok_dir)
        if rc != 0:
            failures.append(f"{toml}: check exited {rc}\n{out}{err}")
            continue
        check_file(toml.with_suffix(".check"), out, a.regen, failures)
        rc, out, err = run(ctl, ["compile", toml.name], ok_dir)
        if rc != 0 or err:
            failures.append(f"{toml}: compile exited {rc}\n{err}")
            continue
        check_file(toml.with_suffix(".nft"), out, a.regen, failures)
        # Determinism: a second compile gives the same bytes.
        if run(ctl, ["compile", toml.name], ok_dir)[1] != out:
            failures.append(f"{toml}: compile output is not deterministic")
    for toml in sorted(fail_dir.glob("*.toml")):
        count += 1
        rc, out, err = run(ctl, ["check", toml.name], fail_dir)
        if rc != 1:
            failures.append(f"{toml}: check exited {rc}, expected 1\n{out}{err}")
            continue
        if out:
            failures.append(f"{toml}: check wrote to stdout on failure: {out!r}")
        check_file(toml.with_suffix(".err"), err, a.regen, failures)
        rc, out, err2 = run(ctl, ["compile", toml.name], fail_dir)
        if rc != 1 or out:
            failures.append(f"{toml}: compile of an invalid policy exited {rc} with output {out[:200]!r}")
    if count == 0:
        failures.append("no golden files found")
    for f in failures:
        print(f, file=sys.stderr)
    print(f"{count} golden policies, {len(failures)} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
