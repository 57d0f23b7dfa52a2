"""The shifted-clock lane: with ESGTRACK_TEST_CLOCK set and this folder on PYTHONPATH, every
Python process of the test run (pytest, the Prefect test server, CLI subprocesses) starts with
its wall clock moved, ticking from there, so a test that reads the clock instead of taking
`now`/`as_of` fails. ESGTRACK_TEST_CLOCK is a date (2033-06-15) or an offset in days (+2000).

The monotonic clock is left alone: sleeps and timeouts behave. libfaketime would move it too,
but its 0.9.10 (Debian 12) hangs timed waits (threading.Event.wait) when it does and breaks
time.sleep when it does not."""

import datetime as _dt
import os as _os

_spec = _os.environ.get("ESGTRACK_TEST_CLOCK", "").strip()
if _spec:
    import time_machine as _time_machine

    if _spec[0] in "+-":
        _to = _dt.datetime.now(_dt.UTC) + _dt.timedelta(days=int(_spec))
    else:
        _to = _dt.datetime.combine(_dt.date.fromisoformat(_spec), _dt.time(9), _dt.UTC)
    _time_machine.travel(_to, tick=True).start()
