"""The HTML report, opened from disk in headless Chromium: the summary and a failure's transcript
render (Debian packages chromium and chromium-driver; skipped where they are not installed)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_plugin import SUITE, manifest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")

pytestmark = pytest.mark.skipif(
    not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()),
    reason="headless Chromium is not installed (Debian packages chromium, chromium-driver)",
)


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1280,2000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture
def report(pytester: pytest.Pytester) -> Path:
    pytester.makeini("[pytest]\naddopts = -p wirecheck.plugin -p no:cacheprovider\n")
    pytester.makepyfile(test_toy=SUITE)
    manifest(pytester.path / "impls" / "alice", "alice", "{python} echo.py {host} {port}")
    manifest(pytester.path / "impls" / "bob", "bob", "{python} echo.py {host} {port}")
    pytester.runpytest("--impl", "impls")
    return pytester.path / "reports" / "report.html"


def test_report_renders_summary_matrix_and_failure_transcript(
    browser: object, report: Path, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(report.as_uri())  # type: ignore[attr-defined]
    find = driver.find_element  # type: ignore[attr-defined]
    assert "wirecheck" in driver.title  # type: ignore[attr-defined]
    summary = find(By.CSS_SELECTOR, "table.summary")
    assert summary.is_displayed()
    assert "alice" in summary.text and "bob" in summary.text and "toy" in summary.text
    matrix = find(By.CSS_SELECTOR, "table.matrix")
    assert matrix.is_displayed() and "toy/1.2/1" in matrix.text and "fail" in matrix.text
    failure = find(By.CSS_SELECTOR, "#problems ~ .case-detail.fail")
    assert failure.is_displayed()
    assert "The server MUST answer in French" in failure.text
    transcript = failure.find_element(By.CSS_SELECTOR, "pre.transcript")
    assert transcript.is_displayed()
    assert "> sent" in transcript.text and "hello\\n" in transcript.text
    assert "< recv" in transcript.text and "HELLO\\n" in transcript.text
    driver.save_screenshot(str(tmp_path / "report.png"))  # type: ignore[attr-defined]
    driver.execute_script('document.getElementById("problems").scrollIntoView()')  # type: ignore[attr-defined]
    driver.save_screenshot(str(tmp_path / "failures.png"))  # type: ignore[attr-defined]
