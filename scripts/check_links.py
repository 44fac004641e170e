"""Checks that every link the assistant gives still works (`make check-links`).

    make check-links                                  every URL in content/contact_data.yml
    make check-links ARGS="--data other.yml"          the URLs of another contact data file
    .venv/bin/python -m scripts.check_links URL ...   the URLs given

Each URL is asked for with HEAD, and with GET where HEAD is refused or answered with an error (some
servers refuse HEAD: 405, 501), within a 5 s timeout, following redirects. A table shows each URL,
its status (redirects first: "301 -> 200"), the address it ends at and whether it works; links
marked `confirmed: false` say so, since visitors are given their fallback instead.

Exit status: 0 every link works; 1 a link is broken (an error status, or its host cannot be
reached while others can); 2 the input is wrong; 3 no link could be reached at all, which says
the network (or DNS) is down here, not that every link broke: nothing is known about them then.
"""

import argparse
import errno
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Tuple

import requests

from content import contact_data
from scripts.table import markdown_table

ROOT = Path(__file__).resolve().parent.parent

TIMEOUT_S = 5.0
PARALLEL_CHECKS = 8
WORKS, BROKEN, UNREACHABLE, BAD_INPUT = 0, 1, 3, 2


@dataclass(frozen=True)
class Target:
    url: str
    note: str = ""


@dataclass(frozen=True)
class Checked:
    target: Target
    statuses: Tuple[int, ...] = ()  # every redirect's status, then the final one
    final_url: Optional[str] = None
    by_get: bool = False
    failure: Optional[str] = None  # why there is no usable answer
    reached: bool = True  # False: no connection to the host at all

    @property
    def broken(self) -> bool:
        return self.failure is not None or self.statuses[-1] >= 400

    @property
    def status(self) -> str:
        if self.failure:
            return self.failure
        return " -> ".join(map(str, self.statuses)) + (" (GET)" if self.by_get else "")

    @property
    def verdict(self) -> str:
        verdict = "BROKEN" if self.broken else "redirected" if len(self.statuses) > 1 else "ok"
        return f"{verdict}; {self.target.note}" if self.target.note else verdict


def causes(error: BaseException) -> Iterator[BaseException]:
    """The error and what it wraps: requests wraps urllib3, which wraps the socket's error."""
    seen: List[BaseException] = []
    pending = [error]
    while pending:
        current = pending.pop()
        if any(current is earlier for earlier in seen):
            continue
        seen.append(current)
        yield current
        wrapped = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        pending += [inner for inner in wrapped if isinstance(inner, BaseException)]


def unreached_because(error: requests.RequestException) -> str:
    if isinstance(error, requests.ConnectTimeout):
        return "no connection within the timeout"
    for cause in causes(error):
        if isinstance(cause, socket.gaierror):
            return "host name not found (DNS)"
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, OSError) and cause.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
            return "no route to the host"
    return "cannot connect"


def check(target: Target, timeout: float = TIMEOUT_S) -> Checked:
    try:
        response = requests.head(target.url, timeout=timeout, allow_redirects=True)
        by_get = response.status_code >= 400
        if by_get:
            response = requests.get(target.url, timeout=timeout, allow_redirects=True, stream=True)
            response.close()  # the status is enough: the page itself is not downloaded
    except requests.TooManyRedirects:
        return Checked(target, failure="too many redirects")
    except requests.exceptions.SSLError:
        return Checked(target, failure="TLS certificate or handshake failed")
    except requests.ReadTimeout:
        return Checked(target, failure=f"no answer within {timeout:g} s")
    except (requests.ConnectionError, requests.ConnectTimeout) as error:
        return Checked(target, failure=unreached_because(error), reached=False)
    except requests.RequestException as error:
        return Checked(target, failure=f"cannot be asked: {error}")
    statuses = tuple(step.status_code for step in response.history) + (response.status_code,)
    return Checked(target, statuses, response.url, by_get)


def contact_data_targets(path: Path) -> List[Target]:
    data = contact_data.load(path)
    targets = []
    for link in data.links.values():
        note = "" if link.confirmed else f"not confirmed: visitors get links.{link.fallback} instead"
        targets.append(Target(link.url, note))
    return targets


def report(results: Sequence[Checked]) -> Tuple[str, int]:
    """What to print, and the exit status."""
    if not any(result.reached for result in results):
        reasons = sorted({result.failure for result in results})
        return (
            f"The network looks unreachable from this machine: none of the {len(results)} links could "
            f"be reached ({'; '.join(reasons)}). Nothing is known about the links themselves; "
            "check the connection (and DNS) and run make check-links again.",
            UNREACHABLE,
        )
    rows = [
        [
            result.target.url,
            result.status,
            result.final_url if result.final_url not in (None, result.target.url) else "",
            result.verdict,
        ]
        for result in results
    ]
    table = markdown_table(["URL", "status", "final address", "result"], rows)
    broken = [result for result in results if result.broken]
    redirected = sum(1 for result in results if len(result.statuses) > 1)
    if broken:
        return f"{table}\n\n{len(broken)} of {len(results)} links are broken.", BROKEN
    return f"{table}\n\nAll {len(results)} links work ({redirected} redirected).", WORKS


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("urls", nargs="*", metavar="URL", help="check these instead of the contact data's")
    parser.add_argument(
        "--data",
        type=Path,
        default=contact_data.DATA_FILE,
        help="the contact data file whose links to check (default content/contact_data.yml)",
    )
    parser.add_argument("--timeout", type=float, default=TIMEOUT_S, help=f"seconds per request (default {TIMEOUT_S:g})")
    args = parser.parse_args(argv)

    if args.urls:
        not_web = [url for url in args.urls if not url.startswith(("http://", "https://"))]
        if not_web:
            parser.error(f"not an http:// or https:// address: {not_web[0]}")
        targets = [Target(url) for url in dict.fromkeys(args.urls)]
    else:
        try:
            targets = contact_data_targets(args.data)
        except contact_data.ContactDataError as error:
            print(f"cannot check the links: {error}", file=sys.stderr)
            return BAD_INPUT
    with ThreadPoolExecutor(PARALLEL_CHECKS) as pool:
        results = list(pool.map(lambda target: check(target, args.timeout), targets))
    text, status = report(results)
    print(text)
    return status


if __name__ == "__main__":
    sys.exit(main())
