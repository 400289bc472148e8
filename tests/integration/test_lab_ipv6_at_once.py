"""IPv6 through a forwarding site works as soon as `longhaul up` returns.

Duplicate address detection keeps new link-local addresses tentative for 1-2 s; a forwarding
site solicits neighbours from its link-local address and could not until then, so the first
IPv6 pings through the chain of docs/topology.md took 650-2000 ms.
"""

from __future__ import annotations

import re

from conftest import RTT_EPSILON_MS
from test_labs import CHAIN as CHAIN_TOPOLOGY
from test_labs import labs, write_topology  # noqa: F401 (labs is a fixture)

CHAIN = CHAIN_TOPOLOGY.replace('name = "chain"', 'name = "chain6"', 1)
PATH_RTT_MS = 16.0


def test_first_ipv6_ping_through_a_forwarding_site_right_after_up(labs, tmp_path):  # noqa: F811
    lab = labs(write_topology(tmp_path, CHAIN))
    # No warm-up: the first ping is the measurement. It crosses both lanes (16 ms) and pays for
    # neighbour discovery once on each segment in each direction at most (one more lane RTT
    # each: 2 x 16 ms), so 3 x 16 ms bounds it; a tentative address costs seconds instead.
    result = lab.exec("right", "ping", "-6", "-c", "1", "-W", "5", "left")
    assert result.returncode == 0, result.stdout + result.stderr
    first_rtt = float(re.search(r"time=([\d.]+) ms", result.stdout).group(1))
    assert PATH_RTT_MS - RTT_EPSILON_MS <= first_rtt <= 3 * PATH_RTT_MS, result.stdout
