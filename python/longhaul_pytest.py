"""A pytest fixture for labs: `pytest_plugins = ["longhaul_pytest"]` in a conftest.py (with this
directory on sys.path), then

    def test_my_service_survives_a_slow_link(longhaul_lab):
        lab = longhaul_lab({"name": "svc", "site": [{"name": "a"}, {"name": "b"}],
                            "lane": [{"a": "a", "b": "b", "rtt": "20ms"}]})
        lab.set("a-b", rtt="300ms")           # degrade it mid-test
        assert lab.exec("a", "ping", "-c", "1", "b").returncode == 0

Every lab the test brought up is taken down after it, passed or failed.
"""
from __future__ import annotations

import pytest

from longhaul_client import Lab


@pytest.fixture
def longhaul_lab():
    """Brings labs up (a topology file's path or a dict); takes them down after the test."""
    started: list[Lab] = []

    def up(topology, *args: str) -> Lab:
        lab = Lab.up(topology, *args)
        started.append(lab)
        return lab

    yield up
    for lab in started:
        if lab.owned:
            lab.down()
