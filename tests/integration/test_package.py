"""The Debian package (`make deb`: CPack from the build tree): what it holds, its
dependencies, lintian (no error or warning), and that it installs, runs and
removes cleanly with dpkg.

Packing reuses the build tree (no compile), so this costs seconds in CI. The
install test changes the system's /usr, so it runs only when no longhaul
package or /usr/bin/longhaul is there already, and removes what it installed.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import base_env, longhaul_binary


def run(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(list(argv), env=base_env(), capture_output=True, text=True,
                          timeout=300, check=check)


@pytest.fixture(scope="module")
def deb(longhaul_bin) -> Path:
    build_dir = Path(longhaul_bin).resolve().parent
    if not (build_dir / "CPackConfig.cmake").is_file():
        pytest.fail(f"{build_dir} is not a CMake build tree with CPack (CPackConfig.cmake)")
    run("cmake", "--build", str(build_dir), "--target", "completions", "package_changelog",
        "man_page")
    result = subprocess.run(["cpack", "-G", "DEB"], cwd=build_dir, env=base_env(),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    packages = sorted(build_dir.glob("longhaul_*_*.deb"), key=lambda p: p.stat().st_mtime)
    assert packages, f"cpack made no longhaul_VERSION_ARCH.deb in {build_dir}"
    return packages[-1]


def test_package_holds_the_binary_man_page_completions_and_docs(deb):
    contents = run("dpkg-deb", "--contents", str(deb)).stdout
    for path in ("./usr/bin/longhaul", "./usr/share/man/man1/longhaul.1.gz",
                 "./usr/share/bash-completion/completions/longhaul",
                 "./usr/share/zsh/vendor-completions/_longhaul",
                 "./usr/share/doc/longhaul/copyright",
                 "./usr/share/doc/longhaul/changelog.gz",
                 "./usr/share/doc/longhaul/examples/four-sites.toml",
                 "./usr/share/doc/longhaul/docs/labs.md",
                 "./usr/share/doc/longhaul/docs/openapi.json",
                 "./usr/lib/python3/dist-packages/longhaul_client.py",
                 "./usr/lib/python3/dist-packages/longhaul_pytest.py"):
        assert f" {path}\n" in contents, f"{path} is not in {deb.name}"
    fields = run("dpkg-deb", "--field", str(deb), "Package", "Architecture", "Depends").stdout
    assert "Package: longhaul" in fields
    # Dependencies from dpkg-shlibdeps: every shared library the binary links.
    for library in ("libc6", "libstdc++6", "libfmt9", "libmnl0", "libpcap0.8", "libxdp1",
                    "libbpf1", "iproute2"):
        assert library in fields, f"Depends lacks {library}: {fields}"


def test_package_is_lintian_clean(deb):
    if shutil.which("lintian") is None:
        pytest.fail("lintian is not installed (scripts/install-deps.sh installs it)")
    result = run("lintian", "--fail-on", "error,warning", str(deb), check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_package_installs_runs_and_removes(deb):
    if Path("/usr/bin/longhaul").exists() or \
            run("dpkg-query", "-W", "longhaul", check=False).returncode == 0:
        pytest.skip("longhaul is already installed on this system: not replacing it")
    installed = run("dpkg", "-i", str(deb), check=False)
    try:
        assert installed.returncode == 0, installed.stdout + installed.stderr
        version = run("/usr/bin/longhaul", "--version").stdout
        assert version.startswith("longhaul ") and "git " in version, version
        if shutil.which("man"):
            assert run("man", "-w", "longhaul").stdout.strip().endswith("longhaul.1.gz")
        assert Path("/usr/share/bash-completion/completions/longhaul").is_file()
        assert "control API" in version, version
        # The Python client imports from the system's python3, outside the source tree.
        imported = run("/usr/bin/python3", "-I", "-c",
                       "import longhaul_client; print(longhaul_client.__file__)")
        assert imported.stdout.strip() == "/usr/lib/python3/dist-packages/longhaul_client.py", \
            imported.stdout + imported.stderr
    finally:
        removed = run("dpkg", "--purge", "longhaul", check=False)
    assert removed.returncode == 0, removed.stdout + removed.stderr
    assert not Path("/usr/bin/longhaul").exists()
    assert not Path("/usr/share/bash-completion/completions/longhaul").exists()
