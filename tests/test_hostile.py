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
