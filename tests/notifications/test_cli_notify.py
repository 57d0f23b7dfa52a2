"""`esgtrack directory …` and `esgtrack outbox …` end to end, in-process."""

from __future__ import annotations

import json

from config import EXAMPLE_DIRECTORY
from config.settings import get_settings
from models.core.directory import load_directory
from models.store.db import get_engine, session_scope
from notifications import enqueue as queue
from notifications import outbox
from tests.conftest import morning
from tests.notifications.conftest import NOW, item


def test_directory_load_copies_a_valid_file_into_the_data_directory(cli, _isolated_home):
    code, out, _ = cli("directory", "load", str(EXAMPLE_DIRECTORY))
    assert code == 0 and "loaded 41 people" in out
    assert (_isolated_home / "directory.yaml").read_bytes() == EXAMPLE_DIRECTORY.read_bytes()
    code, out, _ = cli("directory", "show", "--format", "json")
    people = {p["id"]: p for p in json.loads(out)}
    assert people["esg-head"]["roles"] == ["esg_office"] and people["cao"]["language"] == "ru"
    assert people["ceo"]["channels"] == ["journal"]


def test_directory_load_rejects_a_bad_file_with_exit_2(cli, tmp_path, _isolated_home):
    bad = tmp_path / "bad.yaml"
    bad.write_text(EXAMPLE_DIRECTORY.read_text("utf-8").replace("language: ru}", "language: de}", 1), "utf-8")
    code, _, err = cli("directory", "load", str(bad))
    assert code == 2 and "people[2].language" in err and "bad.yaml" in err
    assert not (_isolated_home / "directory.yaml").exists()


def test_directory_check_against_the_imported_roadmap(cli, db_url, imported, tmp_path, monkeypatch):
    code, out, _ = cli("directory", "check", "--format", "json")
    result = json.loads(out)
    assert code == 0 and result["ok"] and result["roles_from"] == "database"
    assert result["roles_required"] >= 40 and len(result["email_without_smtp"]) == 41

    lacking = tmp_path / "lacking.yaml"
    text = EXAMPLE_DIRECTORY.read_text("utf-8")
    text = text.replace("corporate_secretariat: {holder: secretariat-head,", "corporate_secretariat: {holder: null,")
    text = text.replace("email: ceo@example.kz, ", "")
    lacking.write_text(text, "utf-8")
    monkeypatch.setenv("ESGTRACK_DIRECTORY", str(lacking))
    get_settings.cache_clear()
    code, out, _ = cli("directory", "check", "--format", "json")
    result = json.loads(out)
    assert code == 1 and result["unheld_roles"] == ["corporate_secretariat"]
    assert result["no_channel"] == ["ceo"]
    code, out, _ = cli("directory", "check")
    assert code == 1 and "corporate_secretariat" in out and "ceo" in out


def test_outbox_lists_and_retries(cli, db_url, monkeypatch, tmp_path):
    engine = get_engine(db_url)
    directory = load_directory(EXAMPLE_DIRECTORY)
    settings = get_settings()
    with session_scope(engine) as session:
        queue.enqueue(session, items=[item("E4", "esg-head"), item("S1", "cao")],
                       directory=directory, settings=settings, now=NOW)
    code, out, _ = cli("outbox", "--format", "json")
    listed = json.loads(out)
    assert code == 0 and [r["status"] for r in listed] == ["pending", "pending"]
    assert {r["channel"] for r in listed} == {"journal"}

    code, out, _ = cli("outbox", "retry", "--format", "json")
    result = json.loads(out)
    assert code == 0 and result["counts"] == {"sent": 2}
    code, out, _ = cli("outbox", "--status", "sent", "--format", "csv")
    assert code == 0 and out.count("\n") == 3 and "subject" in out.splitlines()[0]
    assert len(settings.journal_path.read_text("utf-8").splitlines()) == 2

    code, _, err = cli("outbox", "--status", "bogus")
    assert code == 2 and "--status" in err


def test_outbox_retry_reports_dead_messages_with_exit_1(cli, db_url, monkeypatch):
    from tests.notifications.servers import free_port

    monkeypatch.setenv("ESGTRACK_SMTP_URL", f"mailto://127.0.0.1:{free_port()}?from=esg@example.kz")
    get_settings.cache_clear()
    engine = get_engine(db_url)
    with session_scope(engine) as session:
        queue.enqueue(session, items=[item("E4", "esg-head")], directory=load_directory(EXAMPLE_DIRECTORY),
                       settings=get_settings(), now=NOW)
    for _ in range(outbox.MAX_ATTEMPTS - 1):  # rows remain failed: exit 1, counts that add up
        code, out, _ = cli("outbox", "retry")
        assert code == 1 and "1 row(s) claimed = 0 sent + 1 failed" in out
        assert "left: 1 failed, 0 pending, 0 dead undelivered" in out
    code, out, _ = cli("outbox", "retry", "--format", "json")
    result = json.loads(out)
    # esg-head's email ends dead; the message goes on to the deputy's email (the same relay: failed)
    summary = result["summary"]
    assert code == 1 and summary["claimed"] == 2 and summary["dead"] == 1 and summary["failed"] == 1
    assert summary["claimed"] == sum(summary[k] for k in ("sent", "failed", "dead", "unknown", "cancelled"))
    assert result["fallbacks"] == 1 and result["problems"][0]["fallback_to"] == "deputy esg-analyst"
    code, out, _ = cli("outbox", "retry")
    assert code == 1 and "failed" in out
    code, out, _ = cli("outbox", "--format", "json")
    first, fallback = json.loads(out)
    assert (first["recipient"], first["status"], first["hop"], first["fallback_to"]) == (
        "esg-head", "dead", 0, "deputy esg-analyst")
    assert (fallback["recipient"], fallback["channel"], fallback["hop"]) == ("esg-analyst", "email", 1)
    assert "esg-head email" in fallback["fallback_reason"] and "order channels → deputy → journal" in \
        fallback["fallback_reason"]


def test_outbox_shows_claimed_steps_and_retry_turns_them_into_messages(cli, db_url, imported):
    import datetime as dt

    from flows.usecases.planning import load_directory_for, load_policy_for, plan_batch

    settings = get_settings()
    batch = plan_batch(get_engine(db_url), orgs=["KT"], as_of=dt.date(2026, 1, 14), settings=settings,
                       now=morning(dt.date(2026, 1, 14)),
                       directory=load_directory_for(settings), policy=load_policy_for(settings))
    code, out, err = cli("outbox")
    assert code == 0 and "the outbox is empty" in out
    assert f"{batch.claimed} claimed step(s) not yet turned into messages" in err
    code, out, _ = cli("outbox", "retry")
    assert code == 0 and f"{batch.claimed} claimed step(s) made" in out
    code, out, err = cli("outbox", "--format", "json")
    rows = json.loads(out)
    assert len(rows) > batch.claimed and {r["status"] for r in rows} == {"sent"}  # to the journal
    assert "not yet turned into messages" not in err


def test_directory_check_fails_on_journal_only_people_when_real_channels_exist(cli, tmp_path, monkeypatch):
    code, out, _ = cli("directory", "check")  # the example, nothing real configured: the demo
    assert code == 0 and "ok" in out and "journal" in out and "no real channel" in " ".join(out.split())

    teams = tmp_path / "teams.yaml"  # one person on Teams, no SMTP relay: the other 40 reach only the journal
    teams.write_text(EXAMPLE_DIRECTORY.read_text("utf-8").replace(
        "    teams: null", "    teams: workflows://teams.example.kz/wf/sig/", 1), "utf-8")
    monkeypatch.setenv("ESGTRACK_DIRECTORY", str(teams))
    get_settings.cache_clear()
    code, out, _ = cli("directory", "check", "--format", "json")
    result = json.loads(out)
    assert code == 1 and not result["ok"] and result["real_channels"]
    assert len(result["journal_only"]) == 40 and "esg-head" not in result["journal_only"]
    code, out, _ = cli("directory", "check")
    assert code == 1 and "journal only" in out and "everyone has a channel" not in out

    monkeypatch.setenv("ESGTRACK_SMTP_URL", "mailto://127.0.0.1:2525?from=esg@example.kz")
    get_settings.cache_clear()
    code, out, _ = cli("directory", "check", "--format", "json")
    assert code == 0 and json.loads(out)["journal_only"] == []


def test_bad_fallback_order_exits_2_naming_file_and_field(cli, tmp_path, monkeypatch):
    bad = tmp_path / "bad-fallback.yaml"
    bad.write_text(EXAMPLE_DIRECTORY.read_text("utf-8").replace(
        "language: ru, deputy: esg-head}", "language: ru, deputy: esg-head, fallback: [teams, fax]}", 1), "utf-8")
    code, _, err = cli("directory", "load", str(bad))
    assert code == 2 and "bad-fallback.yaml" in err and "people[1].fallback[1]" in err and "fax" in err
