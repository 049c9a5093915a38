"""The http.client cases against real, widely used software: curl, run with the flags of http
PROFILE §3.12 (through a small wrapper that adds `--data-raw` only when there is data), passes
them but for revalidation. Run with ``-m peer``.

Debian package: curl.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.verdicts import ROOT, expected_verdicts, impl_name, judge, run_suite

CURL = ROOT / "tests" / "peers" / "http-curl"


@pytest.mark.peer
def test_curl_passes_http_client_cases(tmp_path: Path) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed (Debian: apt-get install curl)")
    proc, results = run_suite(["suites/http/test_client.py"], [CURL], tmp_path, workers=1)
    name = impl_name(CURL)
    assert name in results, f"no results for {name}:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
    problems = judge(results[name], expected_verdicts(CURL))
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)
