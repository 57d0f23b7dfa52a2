"""One Prefect test harness (a temporary local API server) for the flows folder's tests that
run flows in this process (their modules ask for it with usefixtures)."""

import pytest

from config.settings import get_settings
from tests.notifications.servers import SMTPServer


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


@pytest.fixture
def smtp(monkeypatch):
    """An SMTP server on loopback, named by ESGTRACK_SMTP_URL."""
    server = SMTPServer()
    server.controller.start()
    monkeypatch.setenv("ESGTRACK_SMTP_URL", server.url())
    get_settings.cache_clear()
    yield server
    server.controller.stop()
