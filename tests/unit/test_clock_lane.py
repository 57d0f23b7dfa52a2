"""The shifted-clock lane is real: under ESGTRACK_TEST_CLOCK this process's wall clock is
moved (compared with the kernel's, read through a file's modification time), so the suite
passing there shows it never depends on today's date. Outside the lane there is nothing to
check."""

import datetime as dt
import os
import tempfile

import pendulum
import pytest

SPEC = os.environ.get("ESGTRACK_TEST_CLOCK", "").strip()


@pytest.mark.skipif(not SPEC, reason="not in the shifted-clock lane (ESGTRACK_TEST_CLOCK unset)")
def test_every_clock_this_process_reads_is_moved():
    with tempfile.NamedTemporaryFile() as probe:
        kernel = dt.datetime.fromtimestamp(os.stat(probe.name).st_mtime, dt.UTC)
    wanted = (kernel + dt.timedelta(days=int(SPEC)) if SPEC[0] in "+-"
              else dt.datetime.combine(dt.date.fromisoformat(SPEC), dt.time(9), dt.UTC))
    for seen in (dt.datetime.now(dt.UTC), pendulum.now("UTC"),
                 dt.datetime.fromtimestamp(__import__("time").time(), dt.UTC)):
        assert abs(seen - wanted) < dt.timedelta(hours=2), (seen, wanted, kernel)
    assert abs(kernel - wanted) > dt.timedelta(days=30)  # the lane moved it, far
