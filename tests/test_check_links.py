"""`make check-links`: against a local web server on 127.0.0.1 serving good, redirected, missing,
slow and HEAD-refusing pages, and against ports nobody listens on. No test leaves this machine."""

import os
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import yaml
from conftest import ROOT, free_port

from content import contact_data
from scripts.check_links import contact_data_targets

SLOW_PAGE_S = 2.0


class Pages(BaseHTTPRequestHandler):
    def answer(self, with_body: bool) -> None:
        if self.path == "/no-head" and not with_body:
            self.send_response(405)
            self.send_header("Allow", "GET")
        elif self.path in ("/good", "/no-head"):
            self.send_response(200)
        elif self.path == "/moved":
            self.send_response(301)
            self.send_header("Location", "/good")
        elif self.path == "/slow":
            time.sleep(SLOW_PAGE_S)
            self.send_response(200)
        else:
            self.send_response(404)
        body = b"<html><body>a page</body></html>"
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if with_body:
            self.wfile.write(body)

    def do_HEAD(self) -> None:
        self.answer(with_body=False)

    def do_GET(self) -> None:
        self.answer(with_body=True)

    def log_message(self, *args) -> None:  # the test output stays readable
        pass


@pytest.fixture(scope="module")
def site():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def local_environment() -> dict:
    """No proxy, so that 127.0.0.1 is asked directly; no parent make's job server."""
    return {
        name: value
        for name, value in os.environ.items()
        if not name.lower().endswith("_proxy") and name not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")
    }


def check_links(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scripts.check_links", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=local_environment(),
    )


def table_rows(output: str) -> dict:
    """URL -> [status, final address, result], from the printed Markdown table."""
    rows = {}
    for line in output.splitlines()[2:]:
        if not line.startswith("| "):
            break
        url, *cells = [cell.strip() for cell in line.strip("|").split(" | ")]
        rows[url] = cells
    return rows


def test_a_missing_page_is_reported_broken_and_the_exit_status_says_so(site):
    checked = check_links(f"{site}/good", f"{site}/moved", f"{site}/missing", f"{site}/no-head")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    rows = table_rows(checked.stdout)
    assert rows[f"{site}/good"] == ["200", "", "ok"]
    assert rows[f"{site}/moved"] == ["301 -> 200", f"{site}/good", "redirected"]
    assert rows[f"{site}/missing"] == ["404 (GET)", "", "BROKEN"]
    # HEAD refused with 405, GET answered: the page works
    assert rows[f"{site}/no-head"] == ["200 (GET)", "", "ok"]
    assert "1 of 4 links are broken." in checked.stdout


def test_working_and_redirected_links_pass(site):
    checked = check_links(f"{site}/good", f"{site}/moved", f"{site}/no-head")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "All 3 links work (1 redirected)." in checked.stdout


def test_a_page_slower_than_the_timeout_is_broken_but_the_network_is_not_blamed(site):
    checked = check_links("--timeout", str(SLOW_PAGE_S / 4), f"{site}/slow")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert table_rows(checked.stdout)[f"{site}/slow"] == [f"no answer within {SLOW_PAGE_S / 4:g} s", "", "BROKEN"]


def test_one_unreachable_host_among_working_ones_is_a_broken_link(site):
    nobody = f"http://127.0.0.1:{free_port()}/"
    checked = check_links(f"{site}/good", nobody)
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert table_rows(checked.stdout)[nobody] == ["connection refused", "", "BROKEN"]
    assert "unreachable" not in checked.stdout


def test_when_no_link_can_be_reached_it_says_the_network_is_unreachable():
    nowhere = [f"http://127.0.0.1:{free_port()}/page", f"http://127.0.0.1:{free_port()}/other"]
    checked = check_links(*nowhere)
    assert checked.returncode == 3, checked.stdout + checked.stderr
    assert checked.stdout.startswith("The network looks unreachable from this machine: none of the 2 links")
    assert "connection refused" in checked.stdout
    assert "BROKEN" not in checked.stdout and "|" not in checked.stdout


def test_make_check_links_runs_the_check(site):
    made = subprocess.run(
        ["make", "--no-print-directory", "check-links", f"ARGS={site}/good {site}/missing"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=local_environment(),
    )
    assert made.returncode != 0
    assert "1 of 2 links are broken." in made.stdout


def test_by_default_every_link_of_the_contact_data_is_checked_and_unconfirmed_ones_are_marked():
    targets = contact_data_targets(contact_data.DATA_FILE)
    data = contact_data.load()
    assert [target.url for target in targets] == [link.url for link in data.links.values()]
    notes = {target.url: target.note for target in targets}
    assert notes[data.links["svpp"].url] == "not confirmed: visitors get links.cops_home instead"
    assert notes[data.links["nasro"].url] == ""


def test_a_broken_contact_data_file_is_refused_naming_the_key(tmp_path):
    raw = yaml.safe_load(contact_data.DATA_FILE.read_text(encoding="utf-8"))
    raw["links"]["chp"]["url"] = "cops.usdoj.gov/chp"
    broken = tmp_path / "contact_data.yml"
    broken.write_text(yaml.safe_dump(raw), encoding="utf-8")
    checked = check_links("--data", str(broken))
    assert checked.returncode == 2
    assert "links.chp.url: 'cops.usdoj.gov/chp' does not look like an https:// address" in checked.stderr


def test_an_address_that_is_not_a_web_address_is_refused():
    checked = check_links("ftp://127.0.0.1/file")
    assert checked.returncode == 2
    assert "not an http:// or https:// address: ftp://127.0.0.1/file" in checked.stderr
