#!/usr/bin/env bash
# Installs what longhaul needs to build, test and benchmark, from Debian 12
# packages only. Idempotent: installs nothing when everything is present.
set -euo pipefail

PACKAGES=(
  # build
  g++ cmake ninja-build make pkg-config clang-format
  # libraries (deliberate choices, see docs/architecture.md)
  libcli11-dev          # argument parsing
  nlohmann-json3-dev    # JSON output and state files
  libfmt-dev            # formatting
  libmnl-dev            # rtnetlink message building
  libtomlplusplus-dev   # topology files (TOML, with line and column of every key)
  libpcap-dev           # `longhaul capture` writes pcap files
  libxdp-dev libbpf-dev # `longhaul run --port xdp` (AF_XDP; pulls libxdp1 and its BPF objects)
  libcpp-httplib-dev    # the control API's HTTP/1.1 server on a unix socket (docs/api.md)
  libgtest-dev libgmock-dev libbenchmark-dev
  # run time and tests: real traffic through real namespaces
  iproute2 iputils-ping iperf3 procps kmod
  ethtool               # tests switch checksum offload off on their own "switch" ends (--port xdp)
  gnuplot-nox           # `longhaul bench --plot` (SVG and PNG, no X11)
  python3 python3-pytest
  tshark                # tests read the pcap files `longhaul capture` writes
  # fuzzing (make fuzz / make test-fuzz, docs/robustness.md): clang and its libFuzzer runtime
  clang-14 libclang-rt-14-dev
  zsh                   # tests drive the generated zsh completion (bash is always there)
  dpkg-dev              # `make deb`: CPack's Depends come from dpkg-shlibdeps
  lintian               # tests check the package `make deb` builds against Debian policy
  # the dashboard's browser test (tests/integration/test_dashboard.py): headless Chromium
  chromium chromium-driver python3-selenium
  # a real Prometheus scrapes a lab's /metrics (tests/integration/test_prometheus.py, on a port
  # of its own); on a systemd host the package also enables its own service on :9090 (docs/api.md)
  prometheus
)

missing=()
for package in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$package")
  fi
done
if ((${#missing[@]} == 0)); then
  exit 0
fi

SUDO=()
if [[ $(id -u) -ne 0 ]]; then
  SUDO=(sudo)
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# iperf3 asks whether to start a system-wide daemon; we start our own servers.
echo "iperf3 iperf3/start_daemon boolean false" | "${SUDO[@]}" debconf-set-selections 2>/dev/null || true
# tshark asks whether non-root users may capture; longhaul captures as root itself.
echo "wireshark-common wireshark-common/install-setuid boolean false" | "${SUDO[@]}" debconf-set-selections 2>/dev/null || true
"${SUDO[@]}" apt-get update -qq
"${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
