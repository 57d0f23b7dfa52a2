"""The portal's use cases (flows/usecases/portal.py, review.py, staff.py): an officer submits,
the ESG office accepts or returns, reschedule requests, links revoked, staff signing in —
each with its ledger entry, on SQLite and PostgreSQL."""

import datetime as dt

import pytest
import sqlalchemy as sa

from config.settings import get_settings
from flows.usecases import audit, portal, review, staff
from flows.usecases.planning import load_directory_for, load_policy_for
from models.core import links
from models.core.errors import InputError
from models.core.evidence_rules import Evidence
from models.core.schedule import local_date
from models.evidence.store import path_for
from models.store.ledger import LogFilter
from models.store.tables import OccurrenceRow, OutboxMessage
from tests.conftest import NOW


def ctx():
    settings = get_settings()
    return settings, load_directory_for(settings), load_policy_for(settings)


def open_occurrence(engine, code: str, period: int = 2026) -> int:
    with engine.connect() as c:
        return c.execute(sa.text("SELECT o.id FROM occurrence o JOIN measure m ON m.id = o.measure_id "
                                 "WHERE m.code = :code AND o.period = :period AND o.org = 'KT' "
                                 "AND o.kind = 'due'"), {"code": code, "period": period}).scalar_one()


def events_of(engine, occurrence_id: int) -> list[tuple[str, str]]:
    rows = audit.log(engine, where=LogFilter(org="KT", occurrence_ids=(occurrence_id,)))
    return [(r["event"], r["actor"]) for r in rows]


def submit(engine, tmp_path, code="E1", person="cao", **evidence):
    settings, directory, policy = ctx()
    report = tmp_path / "report.pdf"
    report.write_bytes(b"%PDF-1.4 the annual report")
    occ = open_occurrence(engine, code)
    sub = portal.submit_completion(engine, settings, org="KT", person=directory.person(person), occurrence_id=occ,
                                   evidence=Evidence(**evidence), files=[report], directory=directory,
                                   policy=policy, now=NOW)
    return occ, sub


def test_submission_is_recorded_and_accepting_it_completes_the_occurrence(engine, imported, tmp_path):
    settings, *_ = ctx()
    occ, sub = submit(engine, tmp_path)
    assert sub.state == "pending" and sub.payload["evidence"]["files"][0]["name"] == "report.pdf"
    stored = path_for(settings.evidence_dir, sub.payload["evidence"]["files"][0]["sha256"])
    assert stored.read_bytes().startswith(b"%PDF")
    assert events_of(engine, occ) == [("submitted", "Марат Жаксылыков (cao, signed link)")]
    with engine.connect() as c:  # a submission does not complete anything by itself
        assert c.execute(sa.select(OccurrenceRow.status).where(OccurrenceRow.id == occ)).scalar_one() == "open"

    review.accept(engine, settings, org="KT", submission_id=sub.id, actor="Office (office, esg_office)",
                  now=NOW + dt.timedelta(hours=1))
    assert events_of(engine, occ)[-1] == ("completed", "Office (office, esg_office)")
    entry = audit.log(engine, where=LogFilter(org="KT", occurrence_ids=(occ,), event="completed"))[0]
    assert entry["sha256"] == [sub.payload["evidence"]["files"][0]["sha256"]] and entry["files"] == ["report.pdf"]
    assert entry["data"]["submission"]["id"] == sub.id and "submitted by cao" in entry["summary"]
    with engine.connect() as c:
        assert c.execute(sa.select(OccurrenceRow.status).where(OccurrenceRow.id == occ)).scalar_one() == "done"
    assert all(r.ok for r in audit.verify(engine, org="KT", store_root=settings.evidence_dir))
    with pytest.raises(InputError, match="already accepted"):
        review.accept(engine, settings, org="KT", submission_id=sub.id, actor="x", now=NOW)


def test_a_submission_is_checked_like_the_cli(engine, imported, tmp_path):
    settings, directory, policy = ctx()
    occ = open_occurrence(engine, "E6", 2025)  # an order: its number and date
    with pytest.raises(InputError) as caught:
        portal.submit_completion(engine, settings, org="KT", person=directory.person("cao"), occurrence_id=occ,
                                 evidence=Evidence(ref="45-п"), files=[], directory=directory, policy=policy, now=NOW)
    assert caught.value.field == "--evidence-date"
    assert events_of(engine, occ) == []  # nothing half-written


def test_officers_act_only_on_their_own_obligations_of_their_organisation(engine, imported, tmp_path):
    settings, directory, policy = ctx()
    occ = open_occurrence(engine, "E1")
    with pytest.raises(InputError, match="no such obligation of yours"):
        portal.submit_completion(engine, settings, org="KT", person=directory.person("md-infosec"),
                                 occurrence_id=occ, evidence=Evidence(urls=("https://example.kz/r",)), files=[],
                                 directory=directory, policy=policy, now=NOW)
    with pytest.raises(InputError, match="no such obligation of yours"):
        portal.submit_completion(engine, settings, org="XX", person=directory.person("cao"), occurrence_id=occ,
                                 evidence=Evidence(urls=("https://example.kz/r",)), files=[],
                                 directory=directory, policy=policy, now=NOW)
    mine = portal.my_items(engine, org="KT", person="md-infosec", directory=directory, policy=policy, lang="en",
                           as_of=local_date(NOW))
    assert {i.measure for i in mine} >= {"S1", "S2", "S3"} and "E1" not in {i.measure for i in mine}


def test_one_pending_submission_at_a_time_and_a_return_tells_the_officer(engine, imported, tmp_path):
    settings, directory, _ = ctx()
    occ, sub = submit(engine, tmp_path)
    with pytest.raises(InputError, match="already awaits"):
        submit(engine, tmp_path)
    review.give_back(engine, settings, directory, org="KT", submission_id=sub.id, actor="Office",
                     reason="the report is unsigned", now=NOW)
    assert [e for e, _ in events_of(engine, occ)] == ["submitted", "returned"]
    with engine.connect() as c:
        told = c.execute(sa.select(OutboxMessage.recipient, OutboxMessage.payload)
                         .where(OutboxMessage.step == f"returned-{sub.id}")).all()
    assert told and {r for r, _ in told} == {"cao"}
    assert "the report is unsigned" in told[0][1]["record_hint"]  # in Russian: cao reads Russian
    assert "ESG-офис вернул" in told[0][1]["record_hint"]
    item = portal.my_items(engine, org="KT", person="cao", directory=directory, policy=ctx()[2], lang="ru",
                           as_of=local_date(NOW))
    returned = next(i for i in item if i.occurrence_id == occ)
    assert returned.returned is not None and returned.pending is None
    submit(engine, tmp_path)  # and they can submit again


def test_a_reschedule_request_moves_the_deadline_once_approved(engine, imported):
    settings, directory, policy = ctx()
    occ = open_occurrence(engine, "S1")
    person = directory.person("md-infosec")
    with pytest.raises(InputError, match="after today"):
        portal.request_reschedule(engine, org="KT", person=person, occurrence_id=occ, to=local_date(NOW),
                                  reason="x", directory=directory, policy=policy, now=NOW)
    sub = portal.request_reschedule(engine, org="KT", person=person, occurrence_id=occ, to=dt.date(2027, 3, 31),
                                    reason="the vendor slipped", directory=directory, policy=policy, now=NOW)
    review.accept(engine, settings, org="KT", submission_id=sub.id, actor="Office (office, esg_office)", now=NOW)
    assert [e for e, _ in events_of(engine, occ)] == ["reschedule_requested", "rescheduled"]
    with engine.connect() as c:
        due = c.execute(sa.select(OccurrenceRow.due_at).where(OccurrenceRow.id == occ)).scalar_one()
    assert local_date(due.replace(tzinfo=dt.UTC) if due.tzinfo is None else due) == dt.date(2027, 3, 31)


def test_revoked_links_stop_opening_and_later_ones_open(engine, imported):
    settings, directory, policy = ctx()
    url = portal.link_url(settings, policy, org="KT", person="cao", now=NOW)
    token = url.rsplit("/", 1)[1]
    assert portal.open_link(engine, settings, directory, token=token, purpose="my", now=NOW)[1].id == "cao"
    portal.revoke_links(engine, org="KT", person="cao", by="Office", reason="forwarded",
                        now=NOW + dt.timedelta(hours=1))
    with pytest.raises(links.LinkError, match="revoked"):
        portal.open_link(engine, settings, directory, token=token, purpose="my", now=NOW + dt.timedelta(hours=2))
    later = portal.link_url(settings, policy, org="KT", person="cao", now=NOW + dt.timedelta(hours=3))
    assert portal.open_link(engine, settings, directory, token=later.rsplit("/", 1)[1], purpose="my",
                            now=NOW + dt.timedelta(hours=3))[0].person == "cao"


def test_staff_sign_in_with_argon2_and_are_throttled(engine, imported):
    user = staff.add_user(engine, org="KT", username="Office", name="ESG Office", role="esg_office",
                          password="correct horse battery", email=None, now=NOW)
    with engine.connect() as c:
        stored = c.execute(sa.text("SELECT password_hash FROM staff_user")).scalar_one()
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert staff.sign_in(engine, username="office", password="correct horse battery", client="10.0.0.1",
                         now=NOW).id == user.id
    for _ in range(staff.PER_USER):
        with pytest.raises(staff.SignInError, match="invalid"):
            staff.sign_in(engine, username="office", password="wrong", client="10.0.0.1", now=NOW)
    with pytest.raises(staff.SignInError, match="throttled"):  # even with the right password
        staff.sign_in(engine, username="office", password="correct horse battery", client="10.0.0.1", now=NOW)
    later = NOW + staff.WINDOW + dt.timedelta(seconds=1)
    assert staff.sign_in(engine, username="office", password="correct horse battery", client="10.0.0.1",
                         now=later).role == "esg_office"
    staff.set_active(engine, username="office", active=False, now=later)
    with pytest.raises(staff.SignInError):
        staff.sign_in(engine, username="office", password="correct horse battery", client="10.0.0.2", now=later)


def test_accounts_are_checked_when_added(engine, imported):
    for kwargs, field in (({"role": "root"}, "--role"), ({"password": "short"}, "--password"),
                          ({"username": "two words"}, "USERNAME"), ({"password": None}, "--password")):
        args = {"org": "KT", "username": "a", "name": "", "role": "auditor", "password": "long enough pass",
                "email": None, "now": NOW} | kwargs
        with pytest.raises(InputError) as caught:
            staff.add_user(engine, **args)
        assert caught.value.field == field
    staff.add_user(engine, org="KT", username="a", name="", role="auditor", password="long enough pass",
                   email=None, now=NOW)
    with pytest.raises(InputError, match="exists"):
        staff.add_user(engine, org="KT", username="A", name="", role="auditor", password="long enough pass",
                       email=None, now=NOW)


def test_lateness_is_judged_by_the_day_it_was_submitted_not_reviewed(engine, imported, tmp_path):
    settings, *_ = ctx()
    occ, sub = submit(engine, tmp_path)  # E1 2026, due 2026-12-31, submitted on 2026-11-16
    review.accept(engine, settings, org="KT", submission_id=sub.id, actor="Office", now=NOW + dt.timedelta(days=60))
    entry = audit.log(engine, where=LogFilter(org="KT", occurrence_ids=(occ,), event="completed"))[0]
    assert entry["late"] is False and entry["data"]["completed_on"] == "2026-11-16"
    assert entry["at"].startswith("2027-01-15")  # the entry itself is dated when the office accepted


def test_an_approved_new_date_names_the_request_it_approves(engine, imported):
    settings, directory, policy = ctx()
    occ = open_occurrence(engine, "S1")
    sub = portal.request_reschedule(engine, org="KT", person=directory.person("md-infosec"), occurrence_id=occ,
                                    to=dt.date(2027, 3, 31), reason="vendor", directory=directory, policy=policy,
                                    now=NOW)
    review.accept(engine, settings, org="KT", submission_id=sub.id, actor="Office", now=NOW)
    entry = audit.log(engine, where=LogFilter(org="KT", occurrence_ids=(occ,), event="rescheduled"))[0]
    assert entry["data"]["submission"] == {"id": sub.id, "by": "md-infosec", "at": sub.created_at.isoformat()}
    assert entry["approved_by"] == "Office"


def test_who_may_act_is_in_the_ledger(engine, imported):
    staff.add_user(engine, org="KT", username="audit1", name="Internal Audit", role="auditor",
                   password="long enough pass", email="audit@example.kz", now=NOW, by="root (command line)")
    staff.set_active(engine, username="audit1", active=False, now=NOW, by="Admin (admin, admin)")
    staff.set_active(engine, username="audit1", active=False, now=NOW, by="Admin (admin, admin)")  # no change
    portal.revoke_links(engine, org="KT", person="cao", by="Office", reason="forwarded", now=NOW)
    rows = [(r["event"], r["actor"], r["summary"]) for r in audit.log(engine, where=LogFilter(org="KT"))
            if r["event"] in ("staff_account", "links_revoked")]
    assert rows == [("staff_account", "root (command line)", "audit1 (auditor) added"),
                    ("staff_account", "Admin (admin, admin)", "audit1 (auditor) disabled"),
                    ("links_revoked", "Office", "links of cao revoked: forwarded")]
    with pytest.raises(InputError, match="no organisation 'ZZ'"):
        staff.add_user(engine, org="ZZ", username="z", name="", role="auditor", password="long enough pass",
                       email=None, now=NOW)
    with pytest.raises(InputError, match="an account with this email exists"):
        staff.add_user(engine, org="KT", username="audit2", name="", role="auditor", password="long enough pass",
                       email="AUDIT@example.kz", now=NOW)
    settings = get_settings()
    assert all(r.ok for r in audit.verify(engine, org="KT", store_root=settings.evidence_dir))


def test_one_address_failing_for_many_names_is_throttled(engine, imported):
    staff.add_user(engine, org="KT", username="office", name="", role="esg_office", password="correct horse battery",
                   email=None, now=NOW)
    for i in range(staff.PER_CLIENT):
        with pytest.raises(staff.SignInError, match="invalid"):
            staff.sign_in(engine, username=f"guess{i}", password="x", client="203.0.113.9", now=NOW)
    with pytest.raises(staff.SignInError, match="throttled"):
        staff.sign_in(engine, username="office", password="correct horse battery", client="203.0.113.9", now=NOW)
    assert staff.sign_in(engine, username="office", password="correct horse battery", client="198.51.100.1",
                         now=NOW).username == "office"  # another address is not held up
