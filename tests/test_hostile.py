"""The harness survives hostile implementations (tests/hostile/README.md): bounded time and
memory, "error" for what could not be made ready, "fail" for what was ready and misbehaved,
"pass" for the annoying but correct, clear messages, and no process left behind."""

from __future__ import annotations

import os
import resource
import time
from pathlib import Path
from typing import Any

import pytest

from tests.verdicts import ROOT, impl_name, run_suite

HOSTILE = ROOT / "tests" / "hostile"
EXPECTED = {
    "never_listens": "error",
    "wrong_port": "error",
    "exits_at_once": "error",
    "accepts_never_answers": "fail",
    "floods": "fail",
    "garbage_answers": "fail",
    "dies_after_first_answer": "fail",
    "chatty": "pass",
    "ignores_sigterm": "pass",
    "forks_orphan": "pass",
    "setsid_orphan": "pass",
    "slow_start": "pass",
    "burns_cpu": "pass",
}
# A few cases are enough to tell the verdicts apart; a whole suite against a hang costs minutes.
SPEC = [
    "--spec",
    "zen/3.1",
    "--spec",
    "zen/3.3/1",
    "--spec",
    "zen/3.7/1",
    "--timeout-scale",
    "0.5",
]
RUN_BOUND = 90.0  # seconds for the whole battery


def launched_processes_left() -> list[int]:
    """Processes that still carry a launch token of the harness's."""
    left = []
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != os.getpid():
            try:
                if b"WIRECHECK_LAUNCH=" in Path(f"/proc/{entry}/environ").read_bytes():
                    left.append(int(entry))
            except OSError:
                continue
    return left


@pytest.fixture(scope="module")
def battery(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    before = set(launched_processes_left())
    folders = [HOSTILE / name for name in EXPECTED]
    start = time.monotonic()
    proc, results = run_suite(
        ["suites/zen/test_server.py"],
        folders,
        tmp_path_factory.mktemp("hostile"),
        extra=SPEC,
        timeout=RUN_BOUND * 2,
    )
    elapsed = time.monotonic() - start
    time.sleep(0.2)
    left = sorted(set(launched_processes_left()) - before)
    return {"proc": proc, "results": results, "elapsed": elapsed, "left": left}


def test_battery_ends_in_bounded_time(battery: dict[str, Any]) -> None:
    assert battery["elapsed"] < RUN_BOUND, battery["proc"].stdout[-3000:]


def test_no_process_left_behind(battery: dict[str, Any]) -> None:
    assert not battery["left"], f"processes still running after the run: {battery['left']}"


def test_memory_stays_bounded(battery: dict[str, Any]) -> None:
    # ru_maxrss is in KiB: the largest child (the pytest run, or an implementation) stays < 1 GiB.
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < 1 << 20


@pytest.mark.parametrize("name", list(EXPECTED))
def test_verdict(battery: dict[str, Any], name: str) -> None:
    impl = impl_name(HOSTILE / name)
    results = battery["results"].get(impl)
    assert results, f"no results for {impl}: {battery['proc'].stdout[-3000:]}"
    verdicts = {r["verdict"] for r in results}
    want = EXPECTED[name]
    if want == "error":
        assert verdicts == {"error"}, verdicts
        message = results[0]["actual"]
        assert "command:" in message and ("never" in message or "exited" in message), message
    elif want == "fail":
        assert "error" not in verdicts, [r["actual"] for r in results if r["verdict"] == "error"]
        assert "fail" in verdicts, verdicts
    else:
        assert verdicts == {"pass"}, [(r["case"], r["verdict"], r["actual"]) for r in results]


# -- the battery against the later server roles ---------------------------------------------
# Readiness differs by role (tls.server: a TCP accept; dns.server: a bound UDP port), the harness's
# promises do not: error for what cannot be made ready, fail for what misbehaves, nothing left.
NEW_ROLES: dict[str, dict[str, str]] = {
    "never_listens": {"tls": "error", "dns": "error", "http": "error", "wsgi": "error"},
    "exits_at_once": {"tls": "error", "dns": "error", "http": "error", "wsgi": "error"},
    "accepts_never_answers": {"tls": "fail", "http": "fail", "wsgi": "fail"},
    "floods": {"tls": "fail", "http": "fail", "wsgi": "fail"},
    # a zen server: ready, but it speaks neither TLS nor HTTP
    "setsid_orphan": {"tls": "fail", "http": "fail", "wsgi": "fail"},
    "udp_silent": {"dns": "fail"},
    "udp_garbage": {"dns": "fail"},
}
NEW_SUITES = {
    "tls": "suites/tls/test_server.py",
    "dns": "suites/dns/test_server.py",
    "http": "suites/http/test_server.py",
    "wsgi": "suites/wsgi/test_server.py",
}
NEW_SPEC = [
    *("--spec", "tls/2.1", "--spec", "dns/2.1", "--spec", "http/2.1", "--spec", "wsgi/3.1"),
    *("--timeout-scale", "0.5"),
]


@pytest.fixture(scope="module")
def new_roles_battery(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    before = set(launched_processes_left())
    suites = [path for path in NEW_SUITES.values() if (ROOT / path).exists()]
    start = time.monotonic()
    proc, results = run_suite(
        suites,
        [HOSTILE / name for name in NEW_ROLES],
        tmp_path_factory.mktemp("hostile-new"),
        extra=NEW_SPEC,
        timeout=RUN_BOUND * 2,
    )
    elapsed = time.monotonic() - start
    time.sleep(0.2)
    left = sorted(set(launched_processes_left()) - before)
    return {"proc": proc, "results": results, "elapsed": elapsed, "left": left}


def test_new_roles_battery_is_bounded_and_leaves_nothing(new_roles_battery: dict[str, Any]) -> None:
    assert new_roles_battery["elapsed"] < RUN_BOUND, new_roles_battery["proc"].stdout[-3000:]
    assert not new_roles_battery["left"], new_roles_battery["left"]


@pytest.mark.parametrize(
    ("name", "suite"),
    [
        pytest.param(name, suite, id=f"{name}-{suite}")
        for name, roles in NEW_ROLES.items()
        for suite in roles
    ],
)
def test_new_role_verdict(new_roles_battery: dict[str, Any], name: str, suite: str) -> None:
    if not (ROOT / NEW_SUITES[suite]).exists():
        pytest.skip(f"the {suite} suite is not there")
    impl = impl_name(HOSTILE / name)
    results = [r for r in new_roles_battery["results"].get(impl, []) if r["suite"] == suite]
    assert results, f"no {suite} results for {impl}: {new_roles_battery['proc'].stdout[-3000:]}"
    verdicts = {r["verdict"] for r in results}
    want = NEW_ROLES[name][suite]
    if want == "error":
        assert verdicts == {"error"}, verdicts
    else:
        assert "error" not in verdicts and "fail" in verdicts, [
            (r["case"], r["verdict"], r["actual"][:200]) for r in results
        ]
