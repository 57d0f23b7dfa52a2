"""Browser tests of the web portal (flows/web): the app served by uvicorn on 127.0.0.1 in a
thread of the test process, driven by Debian's chromium through Playwright's sync API.

Playwright downloads no browser here: it launches /usr/bin/chromium (.ci/run installs it).
Without it the tests fail, unless ESGTRACK_TEST_BROWSER_OPTIONAL=1 lets them skip.

Each pytest-xdist worker starts its own Playwright and browser (session scope), once, on the
first test that asks for a page."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, Playwright, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
OPTIONAL = "ESGTRACK_TEST_BROWSER_OPTIONAL"
START_TIMEOUT = 10.0  # seconds for uvicorn to listen, and for it to stop

LiveServer = Callable[[object], str]


class _Served(threading.Thread):
    """One uvicorn server on a socket bound beforehand (no race for the port between workers)."""

    def __init__(self, app: object) -> None:
        super().__init__(name="live-server", daemon=True)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        # log_config=None: uvicorn leaves the process's logging alone; its errors (an app's
        # traceback among them) reach pytest's log capture through the root logger.
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", log_config=None,
                                access_log=False, lifespan="off", ws="none", timeout_graceful_shutdown=2)
        self.server = uvicorn.Server(config)
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.server.run(sockets=[self.sock])
        except BaseException as exc:  # reported by start() or stop()
            self.error = exc

    def start(self) -> None:
        super().start()
        waited = 0.0
        while not self.server.started:
            if not self.is_alive() or waited > START_TIMEOUT:
                self.stop()
                raise RuntimeError(f"live server did not start on port {self.port}") from self.error
            threading.Event().wait(0.01)
            waited += 0.01

    def stop(self) -> None:
        self.server.should_exit = True
        if self.is_alive():
            self.join(START_TIMEOUT)
        self.sock.close()
        if self.is_alive():
            raise RuntimeError(f"live server on port {self.port} did not stop")


@pytest.fixture
def live_server() -> Iterator[LiveServer]:
    """live_server(app) → "http://127.0.0.1:PORT": serves an ASGI app with uvicorn in a thread
    (lifespan off, no access log) until the test ends. Call it again for more servers."""
    served: list[_Served] = []

    def serve(app: object) -> str:
        server = _Served(app)
        server.start()
        served.append(server)
        return f"http://127.0.0.1:{server.port}"

    yield serve
    for server in reversed(served):
        server.stop()


class _Session:
    """This worker's Playwright and browser, and the event loop of Playwright's sync API.

    Between its calls, the sync API leaves its loop marked as running on this thread, and its
    next call expects it so: asyncio.run() would then fail in every later test of the worker
    ("cannot be called from a running event loop"). So the loop is marked only while a test
    that uses the browser runs (_playwright_loop), and unmarked between tests."""

    def __init__(self, playwright: Playwright, browser: Browser) -> None:
        self.playwright, self.browser = playwright, browser
        self.loop = asyncio.get_running_loop()  # Playwright's, marked by its last call

    def enter(self) -> None:
        asyncio._set_running_loop(self.loop)

    def leave(self) -> None:
        asyncio._set_running_loop(None)


@pytest.fixture(scope="session")
def _playwright_session() -> Iterator[_Session]:
    if not CHROMIUM.exists():
        if os.environ.get(OPTIONAL) == "1":
            pytest.skip(f"{CHROMIUM} is absent ({OPTIONAL}=1): apt-get install chromium")
        pytest.fail(f"{CHROMIUM} is absent: the browser tests need Debian's chromium (apt-get install chromium; "
                    f".ci/run installs it), or set {OPTIONAL}=1 to skip them", pytrace=False)
    playwright = sync_playwright().start()
    try:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"])
    except BaseException:
        playwright.stop()
        raise
    session = _Session(playwright, browser)
    session.leave()
    yield session
    session.enter()
    try:
        browser.close()
    finally:
        playwright.stop()
        session.leave()


@pytest.fixture(autouse=True)
def _playwright_loop(request: pytest.FixtureRequest) -> Iterator[None]:
    """Marks Playwright's loop as running for a test that uses the browser (see _Session);
    first in, last out: around the page's setup and teardown too. Such a test itself cannot
    call asyncio.run()."""
    if "browser" not in request.fixturenames:
        yield
        return
    session: _Session = request.getfixturevalue("_playwright_session")
    session.enter()
    try:
        yield
    finally:
        session.leave()


@pytest.fixture(scope="session")
def browser(_playwright_session: _Session) -> Browser:
    """This worker's headless chromium (/usr/bin/chromium), launched once, on first use."""
    return _playwright_session.browser


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A page in a browser context of its own (locale en-US, 1280×900), closed after the test."""
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()
