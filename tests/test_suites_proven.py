"""Each suite is proven both ways: it passes the reference implementations, and it fails every
deliberately broken implementation for the reason its ``expected.toml`` names, and no other."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.verdicts import ROOT, broken_folders, expected_verdicts, impl_name, judge, run_suite

SUITES = ["udp", "tcp", "framing", "zen", "tls", "dns", "http", "wsgi"]
Run = tuple[subprocess.CompletedProcess[str], dict[str, list[dict[str, Any]]]]


@pytest.fixture(scope="session")
def broken_run(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Run]:
    """One run of a suite against all of its broken implementations, made once per session."""
    cache: dict[str, Run] = {}

    def get(suite: str) -> Run:
        if suite not in cache:
            cache[suite] = run_suite(
                [f"suites/{suite}"],
                broken_folders(suite),
                tmp_path_factory.mktemp(f"broken-{suite}"),
            )
        return cache[suite]

    return get


BROKEN = [
    pytest.param(suite, folder, id=f"{suite}/{folder.name}")
    for suite in SUITES
    for folder in broken_folders(suite)
]


@pytest.mark.parametrize(("suite", "folder"), BROKEN)
def test_suite_fails_broken_implementation_for_its_flaw(
    broken_run: Callable[[str], Run], suite: str, folder: Path
) -> None:
    proc, results = broken_run(suite)
    name = impl_name(folder)
    assert name in results, f"no results for {name}:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
    expected = expected_verdicts(folder)
    assert any(v != ["pass"] for v in expected.values()), (
        "expected.toml must name at least one case the flaw breaks"
    )
    problems = judge(results[name], expected)
    assert not problems, f"{name} ({folder}):\n  " + "\n  ".join(problems)


@pytest.mark.parametrize("suite", SUITES)
def test_suite_passes_reference(tmp_path: Path, suite: str) -> None:
    manifests = sorted(ROOT.glob("reference_impl/impl*.toml"))
    proc, results = run_suite([f"suites/{suite}"], manifests, tmp_path)
    assert results, f"no results:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}"
    problems = [f"{name}: {p}" for name, rs in results.items() for p in judge(rs, {})]
    assert not problems, "\n".join(problems)
    assert proc.returncode == 0, proc.stdout[-4000:]
