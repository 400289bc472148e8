"""The web dashboard (docs/dashboard.md) in a real browser: headless Chromium, driven through
Selenium (Debian's chromium, chromium-driver and python3-selenium), against a running lab served
with `longhaul up --web 127.0.0.1:PORT`. The page names every lane, its figures move while real
traffic flows, a change typed in its form is what the API and a ping in the lab then see, a bad
value shows the API's own message and changes nothing, it says so when the engine has gone, and
it picks up the next lab served on the same port. `longhaul web LAB` serves the same page for
a lab that was started without --web, relaying to its socket.
With --token-file, the API refuses a request without the token and the page opens through
/?token=.

Synchronisation is by WebDriverWait and conftest.wait_until (polling bounded conditions), never by
sleeping. `python3 tests/integration/test_dashboard.py --docs-screenshot FILE` takes docs/
dashboard.md's screenshot with the same browser setup, of examples/four-sites.toml under load."""
from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from conftest import (REPO_ROOT, RTT_EPSILON_MS, base_env, free_port, longhaul_binary,  # noqa: E402
                      wait_until)

sys.path.insert(0, str(REPO_ROOT / "python"))
from longhaul_client import ApiError, Lab  # noqa: E402

pytest_plugins = ["longhaul_pytest"]

CHROMIUM = shutil.which("chromium")
CHROMEDRIVER = shutil.which("chromedriver")

LAB = {"name": "dash", "site": [{"name": "hq"}, {"name": "east"}, {"name": "west"}],
       "switch": [{"name": "hub"}],
       "lane": [{"a": "hq", "b": "hub", "name": "hq"},
                {"a": "east", "b": "hub", "name": "east", "rtt": "20ms", "rate": "100mbit"},
                {"a": "west", "b": "hub", "name": "west", "rtt": "40ms", "rate": "100mbit"}]}
TWO_SITES = {"name": "dash-token", "site": [{"name": "left"}, {"name": "right"}],
             "lane": [{"a": "left", "b": "right", "name": "wire", "rtt": "10ms"}]}
WAIT_S = 20  # for the page; samples come every second


pytestmark = pytest.mark.usefixtures("client_env")




def start_browser(width: int = 1440, height: int = 1000):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", f"--window-size={width},{height}", "--no-sandbox",
                     "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                     "--disable-extensions", "--force-color-profile=srgb",
                     # No network beyond the engine: nothing to fetch, nothing to phone home.
                     "--disable-background-networking", "--disable-component-update"):
        options.add_argument(argument)
    # The driver named explicitly: Selenium would otherwise try to download one.
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


@pytest.fixture
def browser():
    if CHROMIUM is None or CHROMEDRIVER is None:
        # Under LONGHAUL_NO_SKIP=1 (CI) conftest turns this skip into a failure.
        pytest.skip("chromium and chromium-driver are not installed (scripts/install-deps.sh)")
    pytest.importorskip("selenium", reason="python3-selenium is not installed")
    driver = start_browser()
    yield driver
    driver.quit()


def page_wait(driver, condition, what: str, timeout: float = WAIT_S):
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition)
    except TimeoutException:
        raise AssertionError(f"timed out after {timeout} s waiting for the page: {what}; "
                             f"banner: {banner_text(driver)!r}") from None


def banner_text(driver) -> str:
    return driver.execute_script(
        "const b = document.getElementById('banner'); return b && !b.hidden ? b.textContent : '';")


def lane_row_names(driver) -> list[str]:
    return driver.execute_script(
        "return [...document.querySelectorAll('#lanes tbody tr')].map(r => r.dataset.lane);")


def samples(driver) -> int:
    return int(driver.execute_script("return document.body.dataset.samples || '0';"))


def lane_bps(driver, lane: str) -> float:
    """The lane's throughput as the page shows it (both directions, bit/s)."""
    return float(driver.execute_script(
        "const r = [...document.querySelectorAll('#lanes tbody tr')]"
        "  .find(r => r.dataset.lane === arguments[0]);"
        "return r ? (+r.querySelector('.up-out').dataset.bps || 0)"
        "  + (+r.querySelector('.down-out').dataset.bps || 0) : 0;", lane))


def shows_the_lab(driver, lanes: list[str], sites: list[str]) -> bool:
    if sorted(lane_row_names(driver)) != sorted(lanes) or samples(driver) < 1:
        return False
    drawn = driver.execute_script(
        "return [...document.querySelectorAll('#topology .node text')].map(t => t.textContent);")
    return all(site in drawn for site in sites)


def ping_rtts(lab: Lab, source: str, target: str, count: int) -> list[float]:
    result = lab.exec(source, "ping", "-n", "-c", str(count), "-i", "0.05", "-W", "2", target)
    assert result.returncode == 0, result.stdout + result.stderr
    return [float(m) for m in re.findall(r"time=([\d.]+) ms", result.stdout)]


def form_message(driver, kind: str) -> str:
    """The edit form's message once it is of `kind` (ok, error)."""
    def done(d):
        node = d.find_element("id", "edit-message")
        return node.text if node.get_attribute("data-kind") == kind else False
    return page_wait(driver, done, f"the form's {kind} message")


def submit_form(driver, values: dict) -> None:
    for name, value in values.items():
        field = driver.find_element("css selector", f'#edit input[name="{name}"]')
        field.clear()
        field.send_keys(value)
    driver.find_element("id", "apply").click()


def test_the_dashboard_shows_and_steers_a_lab(longhaul_lab, browser, tmp_path):
    port = free_port()
    lab = longhaul_lab(LAB, "--web", f"127.0.0.1:{port}")
    browser.get(f"http://127.0.0.1:{port}/")
    page_wait(browser, lambda d: shows_the_lab(d, ["hq", "east", "west"], ["hq", "east", "west",
                                                                          "hub"]),
              "every lane and site named, and a first sample")
    assert browser.find_element("id", "conn").get_attribute("data-state") == "live"

    # Real traffic through the lane east: pings of 1 kB every 50 ms for a few seconds.
    ping = subprocess.Popen([str(longhaul_binary()), "exec", "--lab", lab.name, "hq", "--",
                             "ping", "-n", "-q", "-c", "80", "-i", "0.05", "-s", "1000", "east"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=base_env())
    try:
        # 1 kB each way 20 times a second, about 170 kbit/s per direction: a second wholly
        # inside the ping shows the traffic's figure, not noise (ARP, neighbour discovery).
        page_wait(browser, lambda d: 100e3 < lane_bps(d, "east") < 2e6,
                  "east's throughput to show the ping")
    finally:
        ping.wait(timeout=30)
    assert ping.returncode == 0, ping.stdout.read()

    # A UDP flood from hq to east at twice east's rate builds its queue (east's down direction):
    # the page shows the wait the engine measured, the queue's limit at most (its default for
    # 100 Mbit/s: what the lane reports).
    limit = lab.lane("east")["down"]["config"]["queue"]
    server = subprocess.Popen([str(longhaul_binary()), "exec", "--lab", lab.name, "east", "--",
                               "iperf3", "-s", "-1", "-p", "5311"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, env=base_env())
    try:
        wait_until(lambda: lab.exec("east", "ss", "-Hltn", "sport = :5311").stdout.strip(),
                   timeout=10, what="the iperf3 server")
        flood = subprocess.Popen([str(longhaul_binary()), "exec", "--lab", lab.name, "hq", "--",
                                  "iperf3", "-c", "east", "-p", "5311", "-u", "-b", "200M", "-l",
                                  "1400", "-t", "4"], stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True, env=base_env())
        shown = page_wait(browser, lambda d: float(d.execute_script(
            "const r = document.querySelector('#lanes tbody tr[data-lane=\"east\"] .down-q');"
            "return r && r.dataset.wait ? r.dataset.wait : 0;")) > 1e-3 and d.execute_script(
            "return document.querySelector('#lanes tbody tr[data-lane=\"east\"] .down-q')"
            ".textContent;"), "east's queue wait to show the flood")
        assert flood.wait(timeout=30) == 0, flood.stdout.read()
    finally:
        server.wait(timeout=10)
    wait_s = float(browser.execute_script(
        "return document.querySelector('#lanes tbody tr[data-lane=\"east\"] .down-q')"
        ".dataset.wait || 0;"))
    if "max_delay_s" in limit:
        assert wait_s <= limit["max_delay_s"] * 1.25, (wait_s, limit)  # a bucket's upper edge
    assert re.search(r"B · [\d.]+ ?(ms|s)", shown), shown

    # A lower RTT for east through the form (lower: a longer delay needs buffers the lab did
    # not reserve).
    browser.find_element("css selector", '#lanes tbody tr[data-lane="east"]').click()
    page_wait(browser, lambda d: d.find_element("id", "detail-name").text == "east",
              "east selected")
    submit_form(browser, {"rtt": "10ms"})
    assert "Applied" in form_message(browser, "ok")
    page_wait(browser, lambda d: d.find_element("css selector", '[data-now="rtt"]').text
              == "10.0 ms", "the new rtt shown")
    config = lab.lane("east")
    assert config["up"]["config"]["delay_s"] == pytest.approx(0.005)
    assert config["down"]["config"]["delay_s"] == pytest.approx(0.005)
    # Never early, and the path's own figure is the new one (20 ms before); a busy 2-core
    # machine may hold one echo back a few milliseconds, so the median, not every echo.
    rtts = ping_rtts(lab, "hq", "east", 5)
    assert all(rtt >= 10.0 - RTT_EPSILON_MS for rtt in rtts), rtts
    assert statistics.median(rtts) <= 11.0, rtts
    # The change is marked on the charts' time axis.
    page_wait(browser, lambda d: d.find_elements("css selector", ".chart .mark"),
              "the change marked on the charts")

    # A value the API refuses: its message on the page, nothing changed.
    before = lab.lanes()
    submit_form(browser, {"rate": "fast"})
    shown = form_message(browser, "error")
    with pytest.raises(ApiError) as refused:
        lab.set("east", rate="fast")
    assert refused.value.status == 400
    assert shown == str(refused.value.message), (shown, refused.value)
    after = lab.lanes()
    for name, lane in after.items():
        for direction in ("up", "down"):
            assert lane[direction]["config"] == before[name][direction]["config"], name
    assert browser.find_element("css selector", '[data-now="rate-up"]').text == "100 Mbit/s"
    browser.save_screenshot(str(tmp_path / "dashboard.png"))

    # The outage button: the engine takes it (the lane's outage_until moves ahead).
    field = browser.find_element("id", "outage-for")
    field.clear()
    field.send_keys("1s")
    browser.find_element("id", "outage-go").click()
    page_wait(browser, lambda d: d.find_element("id", "outage-message").get_attribute(
        "data-kind") == "ok", "the outage accepted")
    assert lab.lane("east")["up"]["config"]["outage_until_s"] > 0

    # The engine goes: the page says so.
    lab.down()
    page_wait(browser, lambda d: "engine has gone" in banner_text(d), "the engine-gone banner")
    assert browser.find_element("id", "conn").get_attribute("data-state") == "gone"
    browser.save_screenshot(str(tmp_path / "dashboard-gone.png"))

    # It keeps trying: another lab on the same port is picked up, drawn anew.
    longhaul_lab(dict(TWO_SITES, name="dash-again"), "--web", f"127.0.0.1:{port}")
    page_wait(browser, lambda d: shows_the_lab(d, ["wire"], ["left", "right"])
              and not banner_text(d), "the new lab, and no banner")
    assert browser.find_element("id", "conn").get_attribute("data-state") == "live"


def test_a_token_guards_the_api_and_opens_the_page(longhaul_lab, browser, tmp_path):
    token = secrets.token_urlsafe(24)  # 32 characters
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    token_file.chmod(0o600)
    port = free_port()
    longhaul_lab(TWO_SITES, "--web", f"127.0.0.1:{port}", "--token-file", str(token_file))
    base = f"http://127.0.0.1:{port}"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{base}/v1/", timeout=5)
    assert refused.value.code == 401
    with pytest.raises(urllib.error.HTTPError) as wrong:
        urllib.request.urlopen(f"{base}/?token={'x' * len(token)}", timeout=5)
    assert wrong.value.code == 401
    browser.get(f"{base}/?token={token}")
    page_wait(browser, lambda d: shows_the_lab(d, ["wire"], ["left", "right"]),
              "the lane named and a first sample, through the token's cookie")
    # The redirect took the token out of the address bar.
    assert browser.current_url == f"{base}/"
    browser.save_screenshot(str(tmp_path / "dashboard-token.png"))


def test_longhaul_web_serves_the_dashboard_of_a_lab_up_without_it(longhaul, longhaul_lab,
                                                                  browser):
    lab = longhaul_lab(dict(TWO_SITES, name="dash-attach"))
    # Refused before anything is served: another address than loopback needs a token.
    open_to_all = longhaul.run("web", lab.name, "--listen", "0.0.0.0:1")
    assert open_to_all.returncode == 2 and "--token-file" in open_to_all.stderr, \
        open_to_all.stderr
    port = free_port()
    web = longhaul.start("web", lab.name, "--listen", f"127.0.0.1:{port}")
    wait_until(lambda: "dashboard of lab dash-attach" in web.stdout() or web.poll() is not None,
               timeout=10, what="longhaul web to listen")
    assert web.poll() is None, web.output()
    assert f"http://127.0.0.1:{port}/" in web.stdout(), web.stdout()
    browser.get(f"http://127.0.0.1:{port}/")
    page_wait(browser, lambda d: shows_the_lab(d, ["wire"], ["left", "right"]),
              "the lane and sites named, and a first sample, relayed from the lab's socket")
    assert browser.find_element("id", "conn").get_attribute("data-state") == "live"

    # A change through the form goes through the relay to the engine; a ping sees it.
    browser.find_element("css selector", '#lanes tbody tr[data-lane="wire"]').click()
    page_wait(browser, lambda d: d.find_element("id", "detail-name").text == "wire",
              "wire selected")
    submit_form(browser, {"rtt": "4ms"})
    assert "Applied" in form_message(browser, "ok")
    assert lab.lane("wire")["up"]["config"]["delay_s"] == pytest.approx(0.002)
    rtts = ping_rtts(lab, "left", "right", 5)
    assert all(4.0 - RTT_EPSILON_MS <= rtt < 10.0 - RTT_EPSILON_MS for rtt in rtts), rtts
    # The engine's refusal, relayed word for word.
    submit_form(browser, {"rate": "fast"})
    with pytest.raises(ApiError) as refused:
        lab.set("wire", rate="fast")
    assert form_message(browser, "error") == str(refused.value.message)

    # The lab goes: the page says so, and `longhaul web` ends with status 4.
    lab.down()
    page_wait(browser, lambda d: "engine has gone" in banner_text(d), "the engine-gone banner")
    assert web.wait(timeout=10) == 4, web.output()
    assert "lab dash-attach has gone" in web.stderr(), web.stderr()


# -------------------------------------------------------------------------------------------
# docs/dashboard.png: the four-site lab under load, with this file's browser setup.

def docs_screenshot(output: Path, seconds: int = 40) -> None:
    """The four-site lab with TCP from three sites to New York; England's rate lowered to
    20 Mbit/s with a 150 kB queue through the API while the page watches it, so its queue builds
    and TCP's losses show as drops."""
    port = free_port()
    env = base_env()
    os.environ.update(env)
    lab = Lab.up(REPO_ROOT / "examples" / "four-sites.toml", "--web", f"127.0.0.1:{port}")
    loads = []
    driver = None
    exec_prefix = [str(longhaul_binary()), "exec", "--lab", lab.name]
    try:
        server_ports = {"california": 5301, "england": 5302, "japan": 5303}
        for server_port in server_ports.values():
            loads.append(subprocess.Popen(
                [*exec_prefix, "new-york", "--", "iperf3", "-s", "-1", "-p", str(server_port)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
        for server_port in server_ports.values():
            wait_until(lambda p=server_port: lab.exec(
                "new-york", "ss", "-Hltn", f"sport = :{p}").stdout.strip(), timeout=10,
                what="iperf3 to listen")
        driver = start_browser(1440, 1400)
        driver.get(f"http://127.0.0.1:{port}/")
        page_wait(driver, lambda d: samples(d) >= 1, "a first sample")
        driver.find_element("css selector", '#lanes tbody tr[data-lane="england"]').click()
        lab.set("england", rate="20mbit", queue="150kB")
        lab.set("japan", rtt="300ms")
        # California and Japan at a set rate, England as fast as TCP goes (its 20 Mbit/s).
        for site, rate in (("california", "40M"), ("england", None), ("japan", "8M")):
            limit = ["-b", rate] if rate else []
            loads.append(subprocess.Popen(
                [*exec_prefix, site, "--", "iperf3", "-c", "new-york", "-p",
                 str(server_ports[site]), "-t", str(seconds + 10), *limit],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
        page_wait(driver, lambda d: samples(d) >= seconds, f"{seconds} s of samples",
                  timeout=seconds + 30)
        driver.save_screenshot(str(output))
    finally:
        if driver is not None:
            driver.quit()
        for process in loads:
            process.wait(timeout=120)
        lab.down()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs-screenshot", type=Path, required=True, metavar="FILE")
    docs_screenshot(parser.parse_args().docs_screenshot)
