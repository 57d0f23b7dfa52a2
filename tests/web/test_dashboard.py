"""The ESG office's dashboard and the measure and occurrence pages (flows/web/dashboard.py),
through Starlette's TestClient against the shipped roadmap imported for KT: figures that match
the database, overdue items under their escalation level, dead outbox rows, directory problems,
ledger history, and who may see what."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from config import SHIPPED_ROADMAP
from config.settings import Settings, get_settings
from flows.usecases import reports
from flows.usecases.occurrences import Recorded, record_completion
from flows.usecases.staff import add_user
from flows.web.app import create_app
from models.core.escalation import PlannedItem, StepKind
from models.core.evidence_rules import Evidence
from models.store import outbox as outbox_rows
from models.store.db import session_scope
from models.store.occurrences import OccurrenceFilter, OccurrenceRef, find
from tests.conftest import NOW

PASSWORD = "a long password 123"
LATER = dt.datetime(2027, 1, 20, 4, 0, tzinfo=dt.UTC)  # 20 days after 31 Dec 2026, 09:00 in Almaty


def portal(engine: sa.Engine, *, now: dt.datetime = NOW, settings: Settings | None = None) -> TestClient:
    return TestClient(create_app(engine=engine, settings=settings, clock=lambda: now, limits={}))


def signed_in(engine: sa.Engine, role: str = "esg_office", *, username: str | None = None,
              now: dt.datetime = NOW, settings: Settings | None = None) -> TestClient:
    """A client of a staff member of KT with this role, signed in through the login form."""
    username = username or role.replace("_", "-")
    add_user(engine, org="KT", username=username, name=username.title(), role=role, password=PASSWORD,
             email=None, now=NOW)
    client = portal(engine, now=now, settings=settings)
    form = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
    assert csrf is not None
    answer = client.post("/login", data={"csrf": csrf.group(1), "username": username, "password": PASSWORD,
                                         "next": "/dashboard"}, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return client


def occurrence_ids(engine: sa.Engine, code: str, *, org: str = "KT", period: int | None = None) -> list[int]:
    with session_scope(engine) as s:
        pairs = find(s, org=org, where=OccurrenceFilter(measure=code, period=period))
        return [o.id for o, _ in pairs if o.id is not None]


def aspect_cell(html: str, aspect: str, column: str) -> int:
    row = re.search(rf'<tr data-aspect="{aspect}">(.*?)</tr>', html, re.S)
    assert row is not None, f"no row for aspect {aspect}"
    cell = re.search(rf'<td class="num {column}[^"]*">(\d+)', row.group(1))
    assert cell is not None, f"no {column} cell for {aspect}"
    return int(cell.group(1))


def section(html: str, ident: str) -> str:
    found = re.search(rf'<section[^>]* id="{ident}"[^>]*>(.*?)</section>', html, re.S)
    assert found is not None, f"no section {ident}"
    return found.group(1)


def complete_e6(engine: sa.Engine) -> Recorded:
    return record_completion(engine, ref=OccurrenceRef(org="KT", measure="E6", period=2025), actor="Aigerim (esg)",
                             evidence=Evidence(ref="E6-2025/1", date=dt.date(2025, 10, 1)), files=[],
                             store_root=get_settings().evidence_dir, now=NOW)


def import_xx(engine: sa.Engine) -> None:
    from flows.usecases import roadmap as roadmaps
    from models.core.normalised import load_roadmap

    with session_scope(engine) as s:
        roadmaps.import_roadmap(s, org="XX", loaded=load_roadmap(SHIPPED_ROADMAP), now=NOW)


# --- the dashboard --------------------------------------------------------------------------------


def test_progress_per_aspect_matches_the_database_and_counts_a_completion(imported: sa.Engine) -> None:
    client = signed_in(imported)
    before = client.get("/dashboard")
    assert before.status_code == 200
    status = reports.status(imported, org="KT", as_of=dt.date(2026, 11, 16), by="aspect", lang="en")
    for row in status.rows:
        aspect = "total" if row.group == "total" else row.group
        c = row.counts
        assert aspect_cell(before.text, aspect, "due") == c.due
        assert aspect_cell(before.text, aspect, "done") == c.done_on_time + c.done_late
        assert aspect_cell(before.text, aspect, "overdue") == c.overdue
    assert '<progress max="' in before.text

    complete_e6(imported)
    after = client.get("/dashboard").text
    assert aspect_cell(after, "E", "done") == aspect_cell(before.text, "E", "done") + 1
    assert aspect_cell(after, "E", "overdue") == aspect_cell(before.text, "E", "overdue") - 1
    assert aspect_cell(after, "S", "done") == aspect_cell(before.text, "S", "done")
    assert aspect_cell(after, "total", "done") == aspect_cell(before.text, "total", "done") + 1


def test_overdue_items_sit_under_the_level_their_ladder_has_reached(imported: sa.Engine) -> None:
    client = signed_in(imported, now=LATER)
    html = client.get("/dashboard").text
    e1_2025, = occurrence_ids(imported, "E1", period=2025)  # due 2025-12-31: 385 days, the top level (60+)
    e1_2026, = occurrence_ids(imported, "E1", period=2026)  # due 2026-12-31: 20 days, level 2 (14+, not 30)
    level2, level4 = section(html, "level-2"), section(html, "level-4")
    assert f'href="/occurrences/{e1_2026}"' in level2 and f'href="/occurrences/{e1_2026}"' not in level4
    assert f'href="/occurrences/{e1_2025}"' in level4 and f'href="/occurrences/{e1_2025}"' not in level2
    row = re.search(rf'<tr data-occurrence="{e1_2026}">(.*?)</tr>', level2, re.S)
    assert row is not None and "2026-12-31" in row.group(1) and ">20<" in row.group(1)
    listed = len(re.findall(r'<tr data-occurrence="\d+">', html))  # the rows of every level
    total = next(r for r in reports.status(imported, org="KT", as_of=dt.date(2027, 1, 20), by="aspect",
                                           lang="en").rows if r.group == "total")
    assert listed == total.counts.overdue
    assert f'id="tile-overdue">{total.counts.overdue}<' in html


def test_nothing_is_overdue_before_the_first_deadline(imported: sa.Engine) -> None:
    early = dt.datetime(2025, 3, 3, 4, 0, tzinfo=dt.UTC)
    html = signed_in(imported, now=early).get("/dashboard").text
    assert "Nothing is overdue." in html
    assert 'id="tile-overdue">0<' in html


def _dead_row(engine: sa.Engine, *, error: str) -> None:
    """A message queued through the real enqueue path, claimed, and recorded dead."""
    from models.core.directory import load_directory
    from notifications.enqueue import enqueue

    occ, = occurrence_ids(engine, "E6", period=2025)
    item = PlannedItem(org="KT", occurrence_id=occ, measure="E6", titles={"en": "E6"}, period=2025,
                       occurrence_kind="due", due="2025-12-31", days=-320, step="escalate-60", kind=StepKind.ESCALATION,
                       level=4, completion_form="order", completion_kind="order", units={}, executors={},
                       external_party=None, record_hint="", recipient="cao")
    settings = get_settings()
    with session_scope(engine) as s:
        enqueue(s, items=[item], directory=load_directory(settings.resolved_directory), settings=settings, now=NOW)
        claimed, _ = outbox_rows.claim_due(s, now=NOW, batch_id="test-batch")
        outbox_rows.record(s, [{"_id": r.id, "status": "dead", "attempts": 6, "last_error": error,
                                "masked_target": "", "updated_at": NOW} for r in claimed])


def test_dead_letters_are_listed_with_their_error_masked(imported: sa.Engine) -> None:
    _dead_row(imported, error="refused by https://hooks.example.kz/workflows/a1b2c3d4e5f6?sig=hunter2secret")
    html = signed_in(imported).get("/dashboard").text
    outbox = section(html, "outbox")
    assert 'data-status="dead">1<' in outbox and 'data-status="pending">0<' in outbox
    dead = re.search(r'<tr data-outbox="\d+">(.*?)</tr>', outbox, re.S)
    assert dead is not None
    assert "cao" in dead.group(1) and ">E6</a>" in dead.group(1) and "escalate-60" in dead.group(1)
    assert "refused by https://hooks.example.kz/" in dead.group(1)
    assert "hunter2secret" not in html and "a1b2c3d4e5f6" not in html
    assert 'id="tile-dead">1<' in html


def test_directory_problems_are_listed(imported: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "directory.yaml"
    path.write_text("people:\n  - {id: solo, name: Solo, email: solo@example.kz, language: en}\n"
                    "roles:\n  esg_office: {holder: solo, superior: null}\n", encoding="utf-8")
    html = signed_in(imported, settings=Settings(directory=path)).get("/dashboard").text
    problems = section(html, "directory")
    assert "role nobody holds" in problems
    assert "<code>chief_administrative_officer</code>" in problems
    assert "No problems" not in problems


def test_an_unreadable_directory_is_a_problem_not_an_error_page(imported: sa.Engine, tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("people: 3\n", encoding="utf-8")
    answer = signed_in(imported, settings=Settings(directory=path)).get("/dashboard")
    assert answer.status_code == 200
    assert "the directory cannot be read" in section(answer.text, "directory")


def test_prefect_ui_link(imported: sa.Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREFECT_UI_URL", raising=False)
    client = signed_in(imported)
    assert 'href="http://127.0.0.1:4200"' in client.get("/dashboard").text
    monkeypatch.setenv("PREFECT_UI_URL", "http://prefect.example.kz:4200")
    assert 'href="http://prefect.example.kz:4200"' in client.get("/dashboard").text
    other = signed_in(imported, username="office2", settings=Settings(prefect_ui_url="https://flows.example.kz"))
    assert 'href="https://flows.example.kz"' in other.get("/dashboard").text


def test_submissions_awaiting_review_are_counted_with_a_link(imported: sa.Engine) -> None:
    from flows.usecases.portal import request_reschedule
    from models.core.directory import load_directory
    from models.core.policy import load_policy

    client = signed_in(imported)
    assert 'id="tile-review">0<' in client.get("/dashboard").text
    settings = get_settings()
    directory = load_directory(settings.resolved_directory)
    occ, = occurrence_ids(imported, "E1", period=2026)
    request_reschedule(imported, org="KT", person=directory.person("cao"), occurrence_id=occ, to=dt.date(2027, 3, 1),
                       reason="the audit moved", directory=directory, policy=load_policy(settings.resolved_policy),
                       now=NOW)
    html = client.get("/dashboard").text
    assert 'id="tile-review">1<' in html and 'href="/review"' in html


def test_targets_with_a_reading_have_a_chart(imported: sa.Engine) -> None:
    from flows.usecases.targets import record_reading

    record_reading(imported, settings=get_settings(), org="KT", code="G5", metric=None, year=2025, value=20.0,
                   actor="esg", evidence_ref="AR-2025", now=NOW)
    client = signed_in(imported)
    targets = section(client.get("/dashboard").text, "targets")
    g5 = next(t for t in reports.targets(imported, org="KT", as_of=dt.date(2026, 11, 16)) if t.measure == "G5")
    assert f'<tr data-target="{g5.target_id}">' in targets and "20%" in targets
    assert f'src="/dashboard/targets/{g5.target_id}.png"' in targets
    chart = client.get(f"/dashboard/targets/{g5.target_id}.png")
    assert chart.status_code == 200 and chart.headers["content-type"] == "image/png"
    assert chart.content.startswith(b"\x89PNG")
    assert client.get("/dashboard/targets/999999.png").status_code == 404


# --- the measure and occurrence pages -----------------------------------------------------------


def test_measure_page_lists_its_occurrences_and_ledger_history(imported: sa.Engine) -> None:
    import_xx(imported)
    recorded = complete_e6(imported)
    client = signed_in(imported)
    page = client.get("/measures/E6")
    assert page.status_code == 200
    assert "E6 — " in page.text
    occurrences = section(page.text, "occurrences")
    ids = occurrence_ids(imported, "E6")
    assert ids and all(f'href="/occurrences/{i}"' in occurrences for i in ids)
    assert not any(f'href="/occurrences/{i}"' in page.text for i in occurrence_ids(imported, "E6", org="XX"))
    history = section(page.text, "history")
    assert f'href="/ledger/{recorded.entry.seq}"' in history and "completed" in history
    assert "E6-2025/1" in history


def test_occurrence_page_shows_ledger_history_and_submissions(imported: sa.Engine) -> None:
    from flows.usecases import review
    from flows.usecases.portal import request_reschedule
    from models.core.directory import load_directory
    from models.core.policy import load_policy

    settings = get_settings()
    directory, policy = load_directory(settings.resolved_directory), load_policy(settings.resolved_policy)
    occ, = occurrence_ids(imported, "E1", period=2026)
    sub = request_reschedule(imported, org="KT", person=directory.person("cao"), occurrence_id=occ,
                             to=dt.date(2027, 3, 1), reason="the audit moved", directory=directory, policy=policy,
                             now=NOW)
    assert sub.id is not None
    review.give_back(imported, settings, directory, org="KT", submission_id=sub.id, actor="Office (office)",
                     reason="keep the date", now=NOW + dt.timedelta(hours=1))
    page = signed_in(imported).get(f"/occurrences/{occ}")
    assert page.status_code == 200
    history = section(page.text, "history")
    events = re.findall(r'<strong class="event">([^<]+)</strong>', history)
    assert events == ["reschedule requested", "returned"]
    assert "the audit moved" in history and "keep the date" in history and "/ledger/" in history
    submissions = section(page.text, "submissions")
    assert f'<tr data-submission="{sub.id}">' in submissions
    assert "returned" in submissions and "Office (office)" in submissions and "keep the date" in submissions


def test_unknown_measure_is_not_found(imported: sa.Engine) -> None:
    client = signed_in(imported)
    assert client.get("/measures/E99").status_code == 404
    assert client.get("/occurrences/99999999").status_code == 404
    assert client.get(f"/occurrences/{10**20}").status_code == 404


def test_another_organisations_occurrence_is_not_found(imported: sa.Engine) -> None:
    import_xx(imported)
    theirs = occurrence_ids(imported, "E1", org="XX")[0]
    ours = occurrence_ids(imported, "E1")[0]
    client = signed_in(imported)
    assert client.get(f"/occurrences/{theirs}").status_code == 404
    assert client.get(f"/occurrences/{ours}").status_code == 200


# --- who may see what ----------------------------------------------------------------------------


def test_an_auditor_reads_measures_but_not_the_dashboard(imported: sa.Engine) -> None:
    client = signed_in(imported, "auditor")
    assert client.get("/dashboard").status_code == 403
    assert client.get("/dashboard/targets/1.png").status_code == 403
    assert client.get("/measures/E1").status_code == 200
    occ = occurrence_ids(imported, "E1")[0]
    assert client.get(f"/occurrences/{occ}").status_code == 200


def test_an_admin_sees_the_dashboard(imported: sa.Engine) -> None:
    assert signed_in(imported, "admin").get("/dashboard").status_code == 200


@pytest.mark.parametrize("path", ["/dashboard", "/measures/E1", "/occurrences/1"])
def test_anonymous_is_sent_to_sign_in(imported: sa.Engine, path: str) -> None:
    answer = portal(imported).get(path, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/login?next={path}"


def test_pages_keep_to_the_content_security_policy(imported: sa.Engine) -> None:
    """No inline style or script anywhere on these pages (CSP: style-src 'self', script-src 'self')."""
    complete_e6(imported)
    client = signed_in(imported)
    occ, = occurrence_ids(imported, "E6", period=2025)
    for path in ("/dashboard", "/measures/E6", f"/occurrences/{occ}"):
        html = client.get(path).text
        assert " style=" not in html and "<style" not in html and "<script" not in html, path


def test_the_way_to_a_target_is_measured_from_the_baseline() -> None:
    from flows.usecases.dashboard import target_share
    from models.core.targets import Direction, Reading, TargetSpec, TargetView

    def view(direction: Direction, target: float, *readings: Reading, baseline: float | None = None) -> TargetView:
        spec = TargetSpec("m", "%", direction, 2032, target, 2024 if baseline is not None else None, baseline)
        return TargetView(1, "KT", "G5", {}, spec, readings)

    assert target_share(view(Direction.AT_LEAST, 35.0, Reading(2025, 25.0), baseline=15.0)) == 0.5
    assert target_share(view(Direction.AT_MOST, 100.0, Reading(2025, 150.0), baseline=200.0)) == 0.5
    assert target_share(view(Direction.AT_LEAST, 35.0, Reading(2025, 40.0))) == 1.0
    assert target_share(view(Direction.AT_LEAST, 35.0, Reading(2025, 10.0), baseline=15.0)) == 0.0
    assert target_share(view(Direction.AT_LEAST, 35.0, Reading(2025, 20.0))) is None  # one reading, no baseline
    assert target_share(view(Direction.AT_LEAST, 35.0)) is None
