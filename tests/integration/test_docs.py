"""The man page and README stay true to the code: every subcommand `longhaul --help` lists is
documented in both."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def subcommands(longhaul_bin: Path) -> list[str]:
    help_text = subprocess.run([str(longhaul_bin), "--help"], capture_output=True, text=True,
                               check=True, timeout=10).stdout
    listing = help_text.split("Subcommands:", 1)[1]
    return re.findall(r"^  (\w+)\s", listing, re.M)


def test_every_subcommand_is_in_the_man_page_and_readme(longhaul_bin):
    names = subcommands(longhaul_bin)
    assert {"run", "up", "down", "bench", "tune"} <= set(names), names
    man = (REPO / "docs" / "longhaul.1").read_text()
    readme = (REPO / "README.md").read_text()
    for name in names:
        assert f".B longhaul {name}" in man, f"docs/longhaul.1 lacks a synopsis for {name}"
        assert f"longhaul {name}" in readme, f"README.md never shows `longhaul {name}`"
