#!/usr/bin/env python3
"""Set up everything wirecheck needs and run it: the two commands of the README.

    python3 run.py suites [pytest options]   # the main job: every suite against the references
    python3 run.py tests  [pytest options]   # the harness's own tests

It needs only python3. It makes a virtual environment in .venv, installs the project and its
dependencies there (again only when pyproject.toml changed), installs the Debian packages the
tests use where it can (as root, with apt-get: chromium and chromium-driver for the report test,
nginx, NSD, Unbound and curl for the real-peer tests; without them those tests are skipped),
then runs pytest.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
PY = VENV / "bin" / "python"
STAMP = VENV / ".wirecheck-installed"
# chromium and chromium-driver: tests/test_report_browser.py opens the report in a browser.
# nginx with its stream module, openssl, nsd, unbound, curl: the real peers of
# tests/test_peers_*.py (gunicorn and waitress, the WSGI peers, come from PyPI with [dev]).
DEBIAN_FOR_TESTS = [
    "chromium",
    "chromium-driver",
    "nginx",
    "libnginx-mod-stream",
    "openssl",
    "nsd",
    "unbound",
    "curl",
]
JOBS = {
    "suites": ["suites"],
    "tests": ["tests"],
}


def say(text: str) -> None:
    print(f"[run.py] {text}", flush=True)


def ensure_venv() -> None:
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if PY.exists() and STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not PY.exists():
        say("creating .venv")
        venv.EnvBuilder(with_pip=True).create(VENV)
    say("installing the project and its dependencies into .venv")
    subprocess.run(
        [
            str(PY),
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "-e",
            f"{ROOT}[dev]",
        ],
        check=True,
    )
    STAMP.write_text(wanted)


def ensure_debian(packages: list[str]) -> None:
    missing = [p for p in packages if not _debian_installed(p)]
    if not missing:
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        say(
            f"not installing {', '.join(missing)} (needs root and apt-get): the tests that use "
            "them are skipped"
        )
        return
    say(f"installing Debian packages: {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    update = subprocess.run(["apt-get", "update", "-qq"], env=env)
    install = subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    if update.returncode or install.returncode:
        say("apt-get failed: the tests that need those packages are skipped")


def _debian_installed(package: str) -> bool:
    if not shutil.which("dpkg-query"):
        return False
    out = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}", package], capture_output=True, text=True
    )
    return "install ok installed" in out.stdout


def main() -> int:
    if len(sys.argv) < 2 or sys.argv[1] not in JOBS:
        print(__doc__)
        return 2
    job, extra = sys.argv[1], sys.argv[2:]
    ensure_venv()
    if job == "tests":
        ensure_debian(DEBIAN_FOR_TESTS)
    cmd = [str(PY), "-m", "pytest", *JOBS[job], *extra]
    say(" ".join(cmd[2:]))
    os.chdir(ROOT)
    return subprocess.run(cmd).returncode


if __name__ == "__main__":
    sys.exit(main())
