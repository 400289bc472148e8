#!/usr/bin/env python3
"""Rewrites the generated parameter tables in docs/ from the parameter table (src/link/schema.cc),
through `longhaul params --format ...`: `make docs` runs it after a row changes. The unit test
LinkSchema.GeneratedDocsMatchTheTable fails while a file still differs.

Usage: scripts/update-docs.py LONGHAUL_BINARY"""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
# file, section name, `longhaul params` format, marker style
SECTIONS = [
    ("docs/run.md", "run-flags", "markdown-run", "markdown"),
    ("docs/topology.md", "topology-keys", "markdown-topology", "markdown"),
    ("docs/longhaul.1", "man-link-flags", "man", "roff"),
]


def replace(text: str, name: str, body: str, style: str) -> str:
    # Same rule as link::replace_generated: the body is everything from the line after the
    # opening marker up to the closing marker.
    opening, closing = ((f"<!-- params:{name} -->", "<!-- /params -->") if style == "markdown"
                        else (f'.\\" params:{name}', '.\\" /params'))
    start = text.find(opening)
    if start < 0:
        sys.exit(f"update-docs: {opening!r} is missing: put the markers where the table goes")
    body_start = text.index("\n", start) + 1
    end = text.find(closing, body_start)
    if end < 0:
        sys.exit(f"update-docs: {closing!r} after {opening!r} is missing")
    return text[:body_start] + body + text[end:]


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    for relative, name, form, style in SECTIONS:
        body = subprocess.run([sys.argv[1], "params", "--format", form], check=True,
                              capture_output=True, text=True).stdout
        path = ROOT / relative
        old = path.read_text()
        new = replace(old, name, body, style)
        if new != old:
            path.write_text(new)
            print(f"update-docs: rewrote {relative} ({name})")


if __name__ == "__main__":
    main()
