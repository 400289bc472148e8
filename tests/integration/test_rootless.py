"""Rootless labs: `longhaul up/exec/status/down` run by an unprivileged user.

The test (as root) makes two throwaway users and runs longhaul as them with
runuser. Their labs live in their own user and mount namespaces (docs/rootless.md):
invisible on the host, to root's `longhaul status` and to the other user. Crash
hygiene: after `kill -9` of the engine the session empties and leaves, and
`down --stale` removes the state files.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

import pytest

from conftest import REPO_ROOT, base_env, wait_until

USERS = ("lh-rootless-a", "lh-rootless-b")
# examples/four-sites.toml: Japan 346 ms and California 32 ms RTT from the New York hub, so
# Japan <-> California crosses both lanes: 378 ms.
JAPAN_CALIFORNIA_RTT_MS = 346 + 32


def ensure_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                        name], check=True, timeout=60)
        return pwd.getpwnam(name)


def user_processes(uid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    pids.append(int(entry.name))
            except FileNotFoundError:
                pass
    return pids


class User:
    """longhaul run as an unprivileged user, with a private XDG_RUNTIME_DIR."""

    def __init__(self, account: pwd.struct_passwd, home: Path, binary: Path):
        self.account = account
        self.runtime = home / "runtime"
        self.runtime.mkdir(mode=0o700)
        os.chown(self.runtime, account.pw_uid, account.pw_gid)
        self.binary = binary

    def longhaul(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        env = base_env()
        env["XDG_RUNTIME_DIR"] = str(self.runtime)
        return subprocess.run(["runuser", "-u", self.account.pw_name, "--", str(self.binary),
                               *args], env=env, cwd=self.binary.parent, capture_output=True,
                              text=True, timeout=timeout)

    def state_dir(self) -> Path:
        return self.runtime / "longhaul" / "state" / "labs"

    def session_gone(self) -> bool:
        return not user_processes(self.account.pw_uid)

    def clean_up(self) -> None:
        self.longhaul("down", "--all", timeout=60)
        for pid in user_processes(self.account.pw_uid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        wait_until(self.session_gone, timeout=10, what="the user's processes to exit")


@pytest.fixture
def users(longhaul_bin):
    probe = subprocess.run(["runuser", "-u", "nobody", "--", "unshare", "--user",
                            "--map-root-user", "true"], capture_output=True, text=True,
                           timeout=30)
    if probe.returncode != 0:
        pytest.skip(f"unprivileged user namespaces are disabled here: {probe.stderr.strip()}")
    # The build tree may sit in a directory other users cannot enter (/root), and so does
    # pytest's tmp_path: give them a copy in a directory of their reach.
    tmp_path = Path(tempfile.mkdtemp(prefix="longhaul-rootless-"))
    tmp_path.chmod(0o755)
    binary = tmp_path / "longhaul"
    shutil.copy2(longhaul_bin, binary)
    binary.chmod(0o755)
    shutil.copy2(REPO_ROOT / "examples" / "four-sites.toml", tmp_path / "four-sites.toml")
    (tmp_path / "four-sites.toml").chmod(0o644)
    made = []
    for name in USERS:
        home = tmp_path / name
        home.mkdir()
        home.chmod(0o755)
        made.append(User(ensure_user(name), home, binary))
    yield made
    for user in made:
        user.clean_up()
    shutil.rmtree(tmp_path)


def min_rtt_ms(ping_output: str) -> float:
    match = re.search(r"rtt min/avg/max/mdev = ([0-9.]+)/", ping_output)
    assert match, ping_output
    return float(match.group(1))


def test_rootless_lab_up_exec_ping_down(users):
    alice, bob = users
    up = alice.longhaul("up", "four-sites.toml")
    assert up.returncode == 0, up.stderr
    lab = json.loads(alice.longhaul("status", "--json").stdout)
    assert [entry["name"] for entry in lab] == ["four-sites"]
    assert (alice.state_dir() / "four-sites.json").is_file()

    ping = alice.longhaul("exec", "japan", "--", "ping", "-c", "5", "-i", "0.2", "california")
    assert ping.returncode == 0, ping.stdout + ping.stderr
    assert "5 received" in ping.stdout
    # The lanes' delays are exact; the fastest of 5 replies carries at most the engine's and
    # kernel's scheduling on top (well under a millisecond each way on an idle machine; 10 ms
    # leaves room for the other tests sharing the two cores).
    rtt = min_rtt_ms(ping.stdout)
    assert JAPAN_CALIFORNIA_RTT_MS <= rtt < JAPAN_CALIFORNIA_RTT_MS + 10, ping.stdout

    # tune applies per-namespace settings inside the session and refuses host-global ones.
    tune = alice.longhaul("tune", "--rate", "1gbit", "--rtt", "80ms", "--site", "japan",
                          "--apply")
    assert tune.returncode == 0, tune.stderr
    assert "changed on network namespace lh-four-sites-japan" in tune.stdout, tune.stdout
    assert "not applied: net.core.rmem_max: host-global" in tune.stdout, tune.stdout
    # Completion offers the session's sites.
    sites = alice.longhaul("completion", "names", "site").stdout.split()
    assert sites == ["california", "england", "japan", "new-york"], sites

    # Nobody else sees it: not the host's namespaces, not root's labs, not another user.
    host_netns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True,
                                timeout=30).stdout
    assert "four-sites" not in host_netns
    assert not Path("/run/longhaul/labs/four-sites.json").exists()
    others = bob.longhaul("status")
    assert others.returncode == 0 and "no lab is up" in others.stdout, others.stdout
    assert bob.longhaul("exec", "japan", "--", "true").returncode != 0

    down = alice.longhaul("down")
    assert down.returncode == 0 and "took down lab four-sites" in down.stdout, down.stderr
    assert not (alice.state_dir() / "four-sites.json").exists()
    # The session holder leaves once nothing is in the session: no process of the user stays.
    wait_until(alice.session_gone, timeout=10, what="the rootless session to leave")


def test_rootless_lab_crash_then_down_stale(users):
    alice = users[0]
    assert alice.longhaul("up", "four-sites.toml", "--name", "crashy", "-q").returncode == 0
    engine = json.loads(alice.longhaul("status", "crashy", "--json").stdout)[0]["pid"]
    os.kill(engine, signal.SIGKILL)
    # With the engine gone nothing keeps the session: its namespaces go with it.
    wait_until(alice.session_gone, timeout=15, what="the rootless session to leave")
    stale = alice.longhaul("down", "--stale")
    assert stale.returncode == 0 and "removed lab crashy" in stale.stdout, stale.stdout
    assert list(alice.state_dir().glob("crashy*")) == []
    wait_until(alice.session_gone, timeout=10, what="the rootless session to leave")


def test_rootless_refuses_what_needs_real_root(users):
    alice = users[0]
    run = alice.longhaul("run", "--rtt", "10ms", "--", "true")
    assert run.returncode != 0 and "needs root" in run.stderr, run.stderr
    tune = alice.longhaul("tune", "--rate", "1gbit", "--rtt", "80ms", "--host", "--apply")
    assert tune.returncode != 0 and "real root" in tune.stderr, tune.stderr
    # A state directory that is not the user's own is refused, naming it (exit 3: the machine).
    env = base_env()
    env["XDG_RUNTIME_DIR"] = "/root"
    foreign = subprocess.run(["runuser", "-u", alice.account.pw_name, "--", str(alice.binary),
                              "status"], env=env, capture_output=True, text=True, timeout=60)
    assert foreign.returncode == 3 and "/root/longhaul" in foreign.stderr, foreign.stderr
