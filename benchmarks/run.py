#!/usr/bin/env python3
"""Measure the default run (every suite against the references), serial and with ``-n 2``, and
the harness's own overhead per case against an in-process target.

    python3 run.py suites [--repeat N]    # wall time of `pytest suites`, serial and -n 2
    python3 run.py overhead [--cases N]   # per-case overhead of the harness, in milliseconds
    python3 run.py all

Run it with the project's interpreter (.venv/bin/python benchmarks/run.py all). Results are
printed as a Markdown table and kept in benchmarks/results/latest.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"

OVERHEAD_SUITE = """
import socket
import pytest
from wirecheck import MUST, case, expect

pytestmark = pytest.mark.role("bench.server")

@case("bench/1.1/1", MUST, "The server MUST upper-case the line it receives.")
@pytest.mark.parametrize("n", range({cases}))
def test_harnessed(server, n):
    with server.connect() as conn:
        conn.send(b"abc\\n")
        expect(conn.recv_until(b"\\n", limit=64) == b"ABC\\n", expected="ABC", actual="?")
"""

BARE_SUITE = """
import os, socket
import pytest

@pytest.mark.parametrize("n", range({cases}))
def test_bare(n):
    host, port = os.environ["BENCH_TARGET"].split(":")
    with socket.create_connection((host, int(port)), timeout=2) as s:
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(b"abc\\n")
        data = b""
        while not data.endswith(b"\\n"):
            data += s.recv(64)
        assert data == b"ABC\\n"
"""


def serve_upper(listener: socket.socket, stop: threading.Event) -> None:
    listener.settimeout(0.05)
    while not stop.is_set():
        try:
            conn, _ = listener.accept()
        except TimeoutError:
            continue
        threading.Thread(target=_answer, args=(conn,), daemon=True).start()


def _answer(conn: socket.socket) -> None:
    with conn:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        data = b""
        while not data.endswith(b"\n"):
            chunk = conn.recv(64)
            if not chunk:
                return
            data += chunk
        conn.sendall(data.upper())


def timed(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> tuple[float, int, str]:
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env)
    return time.perf_counter() - start, proc.returncode, proc.stdout[-2000:]


def bench_suites(repeat: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for label, extra in (("serial", []), ("-n 2", ["-n", "2"])):
        times = []
        for _ in range(repeat):
            seconds, code, tail = timed(
                [
                    sys.executable,
                    "-m",
                    "pytest",
                    "suites",
                    "-q",
                    "-p",
                    "no:cacheprovider",
                    "--no-reports",
                    *extra,
                ],
                ROOT,
            )
            if code != 0:
                raise SystemExit(f"pytest suites {' '.join(extra)} failed:\n{tail}")
            times.append(seconds)
        out[label] = {"median_s": round(statistics.median(times), 2), "runs": times}
        print(f"suites {label}: {statistics.median(times):.2f} s (median of {repeat})", flush=True)
    return out


def bench_per_suite() -> dict[str, Any]:
    """Each suite alone, serial, once: its wall time and how many cases passed."""
    out: dict[str, Any] = {}
    for folder in sorted(p for p in (ROOT / "suites").iterdir() if (p / "PROFILE.md").exists()):
        seconds, code, tail = timed(
            [
                sys.executable,
                "-m",
                "pytest",
                f"suites/{folder.name}",
                "-q",
                "-p",
                "no:cacheprovider",
                "--no-reports",
            ],
            ROOT,
        )
        if code != 0:
            raise SystemExit(f"pytest suites/{folder.name} failed:\n{tail}")
        passed = re.search(r"(\d+) passed", tail)
        out[folder.name] = {
            "seconds": round(seconds, 2),
            "passed": int(passed.group(1)) if passed else 0,
        }
        print(
            f"suite {folder.name}: {seconds:.2f} s, {out[folder.name]['passed']} passed", flush=True
        )
    return out


def bench_overhead(cases: int) -> dict[str, Any]:
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()
    thread = threading.Thread(target=serve_upper, args=(listener, stop), daemon=True)
    thread.start()
    host, port = listener.getsockname()[:2]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp)
            (folder / "test_harnessed.py").write_text(
                textwrap.dedent(OVERHEAD_SUITE.format(cases=cases))
            )
            (folder / "test_bare.py").write_text(textwrap.dedent(BARE_SUITE.format(cases=cases)))
            (folder / "pytest.ini").write_text("[pytest]\n")
            env = {**os.environ, "BENCH_TARGET": f"{host}:{port}"}
            base = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
            harnessed, code1, tail1 = timed(
                [
                    *base,
                    "-p",
                    "wirecheck.plugin",
                    "test_harnessed.py",
                    "--target",
                    f"bench.server={host}:{port}",
                    "--reports-dir",
                    str(folder / "reports"),
                ],
                folder,
                env,
            )
            bare, code2, tail2 = timed([*base, "test_bare.py"], folder, env)
            if code1 or code2:
                raise SystemExit(f"overhead runs failed:\n{tail1}\n{tail2}")
    finally:
        stop.set()
        thread.join(1)
        listener.close()
    per_case = (harnessed - bare) / cases * 1000
    print(
        f"overhead: {cases} cases, harnessed {harnessed:.2f} s, bare pytest {bare:.2f} s: "
        f"{per_case:.2f} ms per case (with transcript, verdict and reports)",
        flush=True,
    )
    return {
        "cases": cases,
        "harnessed_s": round(harnessed, 3),
        "bare_s": round(bare, 3),
        "overhead_ms_per_case": round(per_case, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("what", choices=["suites", "overhead", "all"])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cases", type=int, default=500)
    args = parser.parse_args()
    result: dict[str, Any] = {
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}",
        "when": time.strftime("%Y-%m-%d %H:%M"),
    }
    if args.what in ("suites", "all"):
        result["suites"] = bench_suites(args.repeat)
        result["per_suite"] = bench_per_suite()
    if args.what in ("overhead", "all"):
        result["overhead"] = bench_overhead(args.cases)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(result, indent=1))
    print("\n| measure | figure |\n|---|---|")
    for label, data in result.get("suites", {}).items():
        print(f"| `pytest suites` {label} | {data['median_s']} s |")
    for name, data in result.get("per_suite", {}).items():
        print(f"| suite {name}, serial ({data['passed']} passed) | {data['seconds']} s |")
    if "overhead" in result:
        print(f"| harness overhead per case | {result['overhead']['overhead_ms_per_case']} ms |")


if __name__ == "__main__":
    main()
