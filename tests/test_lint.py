"""The tree stays linted, formatted and typed (what tox's lint and types environments run)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.verdicts import ROOT

BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    found = BIN / name if (BIN / name).exists() else shutil.which(name)
    if not found:
        pytest.skip(f"{name} is not installed (pip install -e .[dev])")
    return str(found)


def run(cmd: list[str], cwd: Path = ROOT) -> None:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]


def test_ruff_check() -> None:
    run([tool("ruff"), "check", "."])


def test_ruff_format() -> None:
    run([tool("ruff"), "format", "--check", "."])


def test_mypy_engine() -> None:
    run([tool("mypy")])


@pytest.mark.parametrize(
    "folder",
    sorted(
        p.name for p in (ROOT / "reference_impl").iterdir() if p.is_dir() and list(p.glob("*.py"))
    ),
)
def test_mypy_reference(folder: str) -> None:
    # Each reference program imports its sibling core.py: each folder is checked on its own.
    here = ROOT / "reference_impl" / folder
    run(
        [
            tool("mypy"),
            "--strict",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            *sorted(p.name for p in here.glob("*.py")),
        ],
        cwd=here,
    )
