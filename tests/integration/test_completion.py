"""Shell completion (`longhaul completion bash|zsh`), driven as the shells drive it.

The scripts are generated from the CLI definitions; these tests check them
against an independent source, each command's own `--help`, so a subcommand
or option the script does not offer fails here. No root needed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import base_env, longhaul_binary

OPTION_LINE = re.compile(r"^  (-[^ ]+(?:,-[^ ]+)*)")
SUBCOMMAND_HEADER = "Subcommands:"


def run_help(path: list[str]) -> str:
    result = subprocess.run([str(longhaul_binary()), *path, "--help"], env=base_env(),
                            capture_output=True, text=True, timeout=30, check=True)
    return result.stdout


def help_options(text: str) -> set[str]:
    """Every option spelling `--help` lists ("-q,--quiet" gives -q and --quiet)."""
    spellings: set[str] = set()
    for line in text.splitlines():
        match = OPTION_LINE.match(line)
        if match:
            spellings.update(match.group(1).split(","))
    return spellings


def help_subcommands(text: str) -> list[str]:
    lines = text.splitlines()
    if SUBCOMMAND_HEADER not in lines:
        return []
    names = []
    for line in lines[lines.index(SUBCOMMAND_HEADER) + 1:]:
        if not line.startswith("  ") or line.startswith("   "):
            break
        names.append(line.split()[0])
    return names


def every_command() -> list[list[str]]:
    """Every command path, from the root's --help down: [], ["run"], ["bench", "client"], ..."""
    paths: list[list[str]] = [[]]
    queue: list[list[str]] = [[]]
    while queue:
        path = queue.pop()
        for name in help_subcommands(run_help(path)):
            paths.append([*path, name])
            queue.append([*path, name])
    return paths


@pytest.fixture(scope="module")
def bash_script(tmp_path_factory) -> Path:
    script = tmp_path_factory.mktemp("completion") / "longhaul.bash"
    result = subprocess.run([str(longhaul_binary()), "completion", "bash"], env=base_env(),
                            capture_output=True, text=True, timeout=30, check=True)
    script.write_text(result.stdout)
    return script


def bash_complete(script: Path, words: list[str]) -> list[str]:
    """What bash offers for the last word of `longhaul WORDS...` (COMPREPLY)."""
    program = f"""
source {script}
COMP_WORDS=("$@"); COMP_CWORD=$(( $# - 1 ))
_longhaul longhaul "${{COMP_WORDS[COMP_CWORD]}}" "${{COMP_WORDS[COMP_CWORD-1]}}"
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    result = subprocess.run(["bash", "-c", program, "bash", str(longhaul_binary()), *words],
                            env=base_env(), capture_output=True, text=True, timeout=30,
                            check=True)
    assert result.stderr == ""
    return [line for line in result.stdout.splitlines() if line]


def test_bash_offers_every_subcommand_and_option(bash_script):
    paths = every_command()
    assert ["bench", "client"] in paths and ["run"] in paths
    for path in paths:
        text = run_help(path)
        offered = bash_complete(bash_script, [*path, "-"])
        missing = help_options(text) - set(offered)
        assert not missing, f"`longhaul {' '.join(path)} -<TAB>` does not offer {missing}"
        assert set(offered) <= help_options(text), f"{path}: offers what --help does not list"
        subcommands = help_subcommands(text)
        if subcommands:
            assert set(bash_complete(bash_script, [*path, ""])) >= set(subcommands), path


def test_bash_skips_option_values_and_offers_their_choices(bash_script):
    # --rtt takes a value, so "bench" after it is that value's word, not a subcommand.
    assert bash_complete(bash_script, ["capture", "--direction", ""]) == ["up", "down", "both"]
    assert bash_complete(bash_script, ["run", "--port", "x"]) == ["xdp"]
    assert bash_complete(bash_script, ["run", "--rtt", "80ms", "--sta"]) == ["--stats"]
    assert "--once" in bash_complete(bash_script, ["bench", "server", "--o"])
    # After --, the rest of the line is another command: its name is offered from PATH.
    assert "bash" in bash_complete(bash_script, ["run", "--rtt", "80ms", "--", "bas"])


def test_bash_completes_topology_files(bash_script, tmp_path):
    topology = tmp_path / "wan-sites.toml"
    topology.write_text("")
    assert bash_complete(bash_script, ["up", str(tmp_path / "wan-")]) == [str(topology)]


def test_completion_names_refuses_an_unknown_kind():
    result = subprocess.run([str(longhaul_binary()), "completion", "names", "nothing"],
                            env=base_env(), capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and "nothing" in result.stderr


@pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed (install-deps.sh installs it)")
def test_zsh_script_offers_the_same_words(tmp_path):
    script = tmp_path / "_longhaul"
    script.write_text(subprocess.run([str(longhaul_binary()), "completion", "zsh"], env=base_env(),
                                     capture_output=True, text=True, timeout=30,
                                     check=True).stdout)
    # compadd and friends are zsh's completion builtins, only defined inside a completion
    # widget: stand-ins print what would be offered.
    program = f"""
compadd() {{ [[ $1 == -- ]] && shift; print -l -- "$@"; }}
_files() {{ print -- FILES; }}
_command_names() {{ print -- COMMANDS; }}
compdef() {{ : }}
source {script}
words=("$@"); CURRENT=$#
_longhaul
"""

    def zsh_complete(*words: str) -> list[str]:
        result = subprocess.run(["zsh", "-f", "-c", program, "zsh", "longhaul", *words],
                                env=base_env(), capture_output=True, text=True, timeout=30,
                                check=True)
        assert result.stderr == ""
        return result.stdout.split()

    assert set(zsh_complete("bench", "client", "-")) == help_options(run_help(["bench", "client"]))
    assert zsh_complete("capture", "--direction", "") == ["up", "down", "both"]
    assert "sweep" in zsh_complete("bench", "")
    assert zsh_complete("up", "") == ["FILES"]
    assert zsh_complete("run", "--", "") == ["COMMANDS"]
