"""The tls suite against real, widely trusted software: nginx with its stream module passes the
server cases, and OpenSSL's s_client the client cases, as tls PROFILE §1.5 configures them. Run
with ``-m peer``.

Debian packages: nginx (or nginx-light) and libnginx-mod-stream; openssl.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.verdicts import ROOT, expected_verdicts, impl_name, judge, run_suite

PEERS = ROOT / "tests" / "peers"
NGINX = PEERS / "tls-nginx"
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
STREAM_MODULES = (
    "/usr/lib/nginx/modules/ngx_stream_module.so",
    "/usr/lib64/nginx/modules/ngx_stream_module.so",
    "/usr/share/nginx/modules/ngx_stream_module.so",
)


def expected(folder: Path) -> dict[str, list[str]]:
    return expected_verdicts(folder) if (folder / "expected.toml").exists() else {}


@pytest.mark.peer
def test_nginx_passes_tls_server_cases(tmp_path: Path) -> None:
    if shutil.which("nginx", path=SEARCH_PATH) is None:
        pytest.skip("nginx is not installed (Debian: apt-get install nginx libnginx-mod-stream)")
    if not any(Path(p).exists() for p in STREAM_MODULES):
        pytest.skip("the nginx stream module is not installed (Debian: libnginx-mod-stream)")
    proc, results = run_suite(["suites/tls/test_server.py"], [NGINX], tmp_path, workers=1)
    name = impl_name(NGINX)
    assert name in results, f"no results for {name}:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
    problems = judge(results[name], expected(NGINX))
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)


OPENSSL_CLIENT = PEERS / "tls-openssl-client"


@pytest.mark.peer
def test_openssl_s_client_passes_tls_client_cases(tmp_path: Path) -> None:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed (Debian: apt-get install openssl)")
    proc, results = run_suite(["suites/tls/test_client.py"], [OPENSSL_CLIENT], tmp_path, workers=1)
    name = impl_name(OPENSSL_CLIENT)
    assert name in results, f"no results for {name}:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
    problems = judge(results[name], expected(OPENSSL_CLIENT))
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)
