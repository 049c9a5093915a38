"""The http suite's server cases against a real, widely used web server: nginx serving the
docroot as a static file server, with the configuration its wrapper writes, passes every case
but the one its ``expected.toml`` names (http PROFILE §1.5). Run with ``-m peer``.

Debian package: nginx (or nginx-light).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.verdicts import ROOT, expected_verdicts, impl_name, judge, run_suite

NGINX = ROOT / "tests" / "peers" / "http-nginx"
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])


@pytest.mark.peer
def test_nginx_passes_http_server_cases(tmp_path: Path) -> None:
    if shutil.which("nginx", path=SEARCH_PATH) is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx)")
    proc, results = run_suite(["suites/http/test_server.py"], [NGINX], tmp_path, workers=1)
    name = impl_name(NGINX)
    assert name in results, f"no results for {name}:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
    problems = judge(results[name], expected_verdicts(NGINX))
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)
