"""Benchmark: 2,000 distinct emails to a loopback SMTP server (aiosmtpd, its own process),
through the outbox and with the plain loop, in the same run. Prints JSON.

    .venv/bin/python bench/notify_throughput.py [--messages 2000] [--workers 8] [--no-breakdown]
                                                [--relay-latency-ms 0]

outbox  enqueue 2,000 items (one per person, 2,000 people, kk/ru/en), then deliver_pending():
        claim, render, send on the bounded pool (ESGTRACK_NOTIFY_WORKERS) with one Apprise
        object per message, record outcomes; trust store = a one-certificate PEM
        (ESGTRACK_CA_FILE), as a deployment pointing at its relay's CA would have.
plain   the same 2,000 messages, rendered beforehand (not timed), each sent with a fresh
        apprise.Apprise() and notify(), one after another, with the default trust store.
ratio   outbox rate / plain rate.
breakdown (unless --no-breakdown): the plain loop again with the small PEM, to show how much
        of the ratio the trust store accounts for and how much the pool does.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

LANGS = ("kk", "ru", "en")
NOW = dt.datetime(2025, 12, 17, 4, 0, tzinfo=dt.UTC)


def smtp_sink(port: int, counter, ready, latency: float = 0.0) -> None:
    """The SMTP server, in its own process: accepts every message (after `latency` seconds,
    like a relay across a network), counts it."""
    import asyncio
    import time as _time

    from aiosmtpd.controller import Controller

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
            if latency:
                await asyncio.sleep(latency)
            with counter.get_lock():
                counter.value += 1
            return "250 OK"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    while True:
        _time.sleep(3600)


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def directory_of(n: int):
    from models.core.directory import Directory, Person, RoleEntry

    people = {f"p{i:05d}": Person(id=f"p{i:05d}", name=f"Person {i}", email=f"p{i:05d}@example.kz",
                                  teams=None, apprise=(), language=LANGS[i % 3]) for i in range(n)}
    return Directory(people=people, roles={"esg_office": RoleEntry("esg_office", "p00000", None)})


def items_for(n: int) -> list:
    from models.core.escalation import PlannedItem

    items = []
    for i in range(n):
        measure = f"{'ESG'[i % 3]}{i % 16 + 1}"
        items.append(PlannedItem.from_payload({
            "org": "KT", "occurrence_id": None, "measure": measure,
            "titles": {"kk": f"{measure}: экологиялық саясат №{i}", "ru": f"{measure}: экологическая политика №{i}",
                       "en": f"{measure}: environmental policy #{i}"},
            "period": 2025, "occurrence_kind": "due", "due": "2025-12-31", "days": 14,
            "step": f"remind-14-{i}", "kind": "reminder", "level": 0,
            "completion_form": "Бұйрық", "completion_kind": "order",
            "units": {"kk": ["Корпоративтік басқару және тұрақты даму департаменті"],
                      "ru": ["Департамент корпоративного управления и устойчивого развития"],
                      "en": ["Corporate Governance and Sustainable Development Department"]},
            "executors": {"kk": ["Бас әкімшілік директор"], "ru": ["Главный административный директор"],
                          "en": ["Chief Administrative Officer"]},
            "others_told": ["Айгерім Сейітқызы (esg_office)"], "external_party": None,
            "record_hint": f"esgtrack complete {measure} --period 2025 --org KT --by YOUR_NAME",
            "recipient": f"p{i:05d}",
        }))
    return items


def run_outbox(items, directory, smtp_url: str, ca_file: Path, workers: int, home: Path) -> dict:
    from pydantic import SecretStr

    from config.settings import Settings
    from models.store.db import get_engine, session_scope, upgrade
    from notifications import enqueue as queue
    from notifications import outbox

    settings = Settings(home=home, smtp_url=SecretStr(smtp_url), ca_file=ca_file,
                        notify_workers=workers, notify_timeout=30)
    engine = get_engine(f"sqlite:///{home / 'bench.db'}")
    upgrade(engine)
    started = time.perf_counter()
    with session_scope(engine) as session:
        claimed = queue.enqueue(session, items=items, directory=directory, settings=settings, now=NOW)
    enqueued = time.perf_counter() - started
    started = time.perf_counter()
    report = outbox.deliver_pending(engine, directory=directory, settings=settings, now=NOW)
    seconds = time.perf_counter() - started
    assert claimed == len(items) and report.counts == {"sent": len(items)}, report.as_dict()
    return {"seconds": round(seconds, 3), "rate": round(len(items) / seconds, 1),
            "enqueue_seconds": round(enqueued, 3), "workers": workers, "messages": report.messages}


def run_plain(messages, smtp_url: str) -> dict:
    """The plain loop: a fresh Apprise object per message, notify() one after another."""
    import apprise

    started = time.perf_counter()
    ok = 0
    for to, message in messages:
        sender = apprise.Apprise()
        sender.add(f"{smtp_url}&to={to}")
        ok += bool(sender.notify(body=message.html, title=message.subject,
                                 body_format=apprise.NotifyFormat.HTML))
    seconds = time.perf_counter() - started
    assert ok == len(messages), f"plain loop: only {ok} of {len(messages)} sent"
    return {"seconds": round(seconds, 3), "rate": round(len(messages) / seconds, 1)}


def rendered(items, directory) -> list:
    from notifications.messages import render

    as_of = NOW.date()
    return [(directory.people[i.recipient].email,
             render("reminder", [i], directory.people[i.recipient], as_of=as_of)) for i in items]


def small_ca(path: Path) -> Path:
    import trustme

    trustme.CA().cert_pem.write_to_path(str(path))
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--no-breakdown", action="store_true",
                        help="skip the plain loop with the small trust store")
    parser.add_argument("--relay-latency-ms", type=float, default=0.0,
                        help="the SMTP server waits this long before accepting each message")
    args = parser.parse_args()

    ctx = multiprocessing.get_context("spawn")
    counter, ready, port = ctx.Value("i", 0), ctx.Event(), free_port()
    server = ctx.Process(target=smtp_sink, args=(port, counter, ready, args.relay_latency_ms / 1000),
                         daemon=True)
    server.start()
    ready.wait(30)
    smtp_url = f"mailto://127.0.0.1:{port}?from=esg@example.kz"
    try:
        with tempfile.TemporaryDirectory(prefix="esgtrack-bench-") as tmp:
            home = Path(tmp)
            ca_file = small_ca(home / "relay-ca.pem")
            directory, items = directory_of(args.messages), items_for(args.messages)
            messages = rendered(items, directory)
            plain = run_plain(messages, smtp_url)
            after_plain = counter.value
            result_outbox = run_outbox(items, directory, smtp_url, ca_file, args.workers, home)
            after_outbox = counter.value
            breakdown = None
            if not args.no_breakdown:
                os.environ["SSL_CERT_FILE"] = str(ca_file)
                breakdown = {"plain_small_ca": run_plain(messages, smtp_url)}
                del os.environ["SSL_CERT_FILE"]
    finally:
        server.kill()
    assert after_plain == args.messages and after_outbox - after_plain == args.messages, \
        (after_plain, after_outbox)
    result = {
        "benchmark": "notify_throughput", "messages": args.messages,
        "relay_latency_ms": args.relay_latency_ms,
        "outbox_rate": result_outbox["rate"], "plain_rate": plain["rate"],
        "ratio": round(result_outbox["rate"] / plain["rate"], 2),
        "outbox": result_outbox, "plain": plain, "received": {"plain": after_plain,
                                                              "outbox": after_outbox - after_plain},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(),
                    "platform": platform.platform()},
    }
    if breakdown:
        result["breakdown"] = breakdown
        result["breakdown"]["ratio_same_trust_store"] = round(
            result_outbox["rate"] / breakdown["plain_small_ca"]["rate"], 2)
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
