"""The wsgi suite against real, widely used WSGI servers: gunicorn (gthread worker) and waitress
pass the wsgi.server cases, as wsgi PROFILE §1.6 configures them. Run with ``-m peer``.

Python packages (PyPI, dev dependencies): gunicorn, waitress, in the interpreter running pytest.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.verdicts import ROOT, expected_verdicts, impl_name, judge, run_suite

PEERS = ROOT / "tests" / "peers"
SUITE = ["suites/wsgi/test_server.py"]


def expected(folder: Path) -> dict[str, list[str]]:
    return expected_verdicts(folder) if (folder / "expected.toml").exists() else {}


def check_peer(folder: Path, tmp_path: Path) -> None:
    proc, results = run_suite(SUITE, [folder], tmp_path, workers=1)
    name = impl_name(folder)
    assert name in results, f"no results for {name}:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
    problems = judge(results[name], expected(folder))
    assert not problems, f"{name}:\n  " + "\n  ".join(problems)


@pytest.mark.peer
@pytest.mark.parametrize("module", ["gunicorn", "waitress"])
def test_peer_passes_wsgi_server_cases(tmp_path: Path, module: str) -> None:
    if importlib.util.find_spec(module) is None:
        pytest.skip(f"{module} is not importable here (PyPI: pip install {module})")
    check_peer(PEERS / f"wsgi-{module}", tmp_path)
