"""One Prefect test harness (a temporary local API server) for the flows folder's tests that
run flows in this process (their modules ask for it with usefixtures)."""

import pytest


@pytest.fixture(scope="session")
def prefect_harness():
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield
