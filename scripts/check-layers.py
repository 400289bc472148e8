#!/usr/bin/env python3
"""Fails when a source file includes a header of a layer above its own.

The layers (docs/architecture.md, CMakeLists.txt) are one directory each under src/; what each
may include is what its CMake target links, below it. Every target sees src/ as its include
root, so the compiler cannot refuse an upward include: this check does, as a unit test
(ctest -L unit) in every build. Usage: check-layers.py [SRC_DIR]
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

# Layer -> the layers its files may include (itself included), as the targets link.
ALLOWED = {
    "core": {"core"},
    "io": {"io", "core"},
    "engine": {"engine", "core", "io"},
    "web": {"web"},
    "control": {"control", "engine", "core", "io", "web"},
    "link": {"link", "core", "io"},
    "tune": {"tune", "core", "io"},
    "measure": {"measure", "tune", "core", "io"},
    "lab": {"lab", "control", "engine", "link", "measure", "tune", "core", "io", "web"},
    "cli": {"cli", "lab", "control", "engine", "link", "measure", "tune", "core", "io", "web"},
}
INCLUDE = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/', re.M)


def violations(src: Path) -> list[str]:
    found = []
    layers = {p.name for p in src.iterdir() if p.is_dir()}
    unknown = layers - set(ALLOWED)
    if unknown:
        found.append(f"src/{sorted(unknown)[0]}: a directory with no place in the layers; add it "
                     "to scripts/check-layers.py and docs/architecture.md")
    for path in sorted(src.rglob("*")):
        if path.suffix not in (".cc", ".hh"):
            continue
        layer = path.relative_to(src).parts[0]
        text = path.read_text(errors="replace")
        for match in INCLUDE.finditer(text):
            included = match.group(1)
            if included in ALLOWED and included not in ALLOWED.get(layer, set()):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(src.parent)}:{line}: {layer} includes "
                             f"{included}/, a layer above it (it may include "
                             f"{', '.join(sorted(ALLOWED[layer]))})")
    return found


def main() -> int:
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "src"
    problems = violations(src)
    for problem in problems:
        print(problem, file=sys.stderr)
    if not problems:
        print(f"layers: every include under {src} points down")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
