"""Fixtures for browser tests: a real JupyterLab and Debian's Chromium via playwright.

Fixtures
--------
jupyterlab            session: running JupyterLab (jlab.JupyterServer), nodelay extension on,
                      test-only nodelay_probe extension loaded.
jupyterlab_factory    session: ``factory(nodelay: bool = True) -> JupyterServer``, one server per
                      setting, started on first use, stopped at the end of the session.
chromium              session: playwright Browser (Debian's /usr/bin/chromium).  Skips when
                      no Chromium/playwright is available, fails instead when
                      INVWIDGETS_REQUIRE_BROWSER=1.
lab_page_factory      ``factory(server=None) -> jlab.LabPage`` (fresh browser context each);
                      closed after the test.
lab_page              one LabPage on ``jupyterlab``.

When a browser test fails (or its setup does), every open LabPage is screenshotted to
``test-artifacts/<test name>-<n>.png`` and the JupyterLab server log tail is attached
to the report.
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # independent of pytest's import mode
    sys.path.insert(0, str(HERE))

import jlab  # noqa: E402

ARTIFACTS = HERE.parents[1] / "test-artifacts"


def _browser_required() -> bool:
    return os.environ.get("INVWIDGETS_REQUIRE_BROWSER", "") not in ("", "0")


def _unavailable(reason: str):
    if _browser_required():
        pytest.fail(f"{reason}, and INVWIDGETS_REQUIRE_BROWSER=1 requires browser tests to run",
                    pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium():
    if jlab.chromium_path() is None:
        _unavailable(f"no Chromium at {jlab.CHROMIUM} (apt-get install chromium, or set "
                     "INVWIDGETS_CHROMIUM); playwright's own browsers are never downloaded")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("playwright (python) is not installed: pip install -e .[test]")
    pw = sync_playwright().start()
    try:
        browser = jlab.launch_chromium(pw)
    except Exception:
        pw.stop()
        raise  # a Chromium that exists but does not start is a failure, not a skip
    yield browser
    browser.close()
    pw.stop()


@pytest.fixture(scope="session")
def jupyterlab_factory():
    servers: dict[bool, jlab.JupyterServer] = {}

    def factory(nodelay: bool = True) -> jlab.JupyterServer:
        key = bool(nodelay)
        if key not in servers or not servers[key].alive():
            servers[key] = jlab.start_jupyterlab(nodelay=key, probe=True)
        return servers[key]

    yield factory
    for server in servers.values():
        server.stop()


@pytest.fixture(scope="session")
def jupyterlab(jupyterlab_factory, chromium) -> jlab.JupyterServer:
    # Depends on `chromium` so that a missing browser skips before a server starts.
    return jupyterlab_factory(True)


@pytest.fixture
def lab_page_factory(chromium, jupyterlab):
    pages: list[jlab.LabPage] = []

    def factory(server: jlab.JupyterServer | None = None) -> jlab.LabPage:
        page = jlab.LabPage.new(chromium, server or jupyterlab)
        pages.append(page)
        return page

    yield factory
    for page in pages:
        page.close()


@pytest.fixture
def lab_page(lab_page_factory) -> jlab.LabPage:
    return lab_page_factory()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "teardown" or not report.failed or "browser" not in item.keywords:
        return
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid.split("::", 1)[-1])
    servers = {}
    for i, page in enumerate(list(jlab.LIVE_PAGES)):
        try:
            path = page.screenshot(ARTIFACTS / f"{name}-{i}.png", full_page=True)
            report.sections.append(("browser", f"screenshot: {path}"))
        except Exception as e:  # the page may be gone; the report matters more
            report.sections.append(("browser", f"screenshot failed: {e!r}"))
        if page.console:
            report.sections.append(("browser console", "\n".join(page.console[-50:])))
        servers[id(page.server)] = page.server
    for server in servers.values():
        report.sections.append(("jupyterlab log (tail)", server.log_text()[-4000:]))
