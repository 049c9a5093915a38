"""The dns suite against real, widely used name servers: NSD (authoritative only) and Unbound
(a resolver that serves the zone as an auth-zone) pass the dns.server cases, with the
configuration their wrappers write, and with the deviations their ``expected.toml`` names
(dns PROFILE §1.5). Run with ``-m peer``.

Debian packages: nsd, unbound.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.verdicts import ROOT, expected_verdicts, impl_name, judge, run_suite

PEERS = ROOT / "tests" / "peers"
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
DNS_PEERS = [
    pytest.param(PEERS / "dns-nsd", "nsd", "nsd", id="nsd"),
    pytest.param(PEERS / "dns-unbound", "unbound", "unbound", id="unbound"),
]


def expected(folder: Path) -> dict[str, list[str]]:
    return expected_verdicts(folder) if (folder / "expected.toml").exists() else {}


@pytest.mark.peer
@pytest.mark.parametrize(("folder", "binary", "package"), DNS_PEERS)
def test_peer_passes_dns_server_cases(
    tmp_path: Path, folder: Path, binary: str, package: str
) -> None:
    if shutil.which(binary, path=SEARCH_PATH) is None:
        pytest.skip(f"{binary} is not installed (Debian: apt-get install {package})")
    proc, results = run_suite(["suites/dns/test_server.py"], [folder], tmp_path, workers=1)
    name = impl_name(folder)
    assert name in results, f"no results for {name}:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
    problems = judge(results[name], expected(folder))
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)
