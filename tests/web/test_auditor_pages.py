"""The auditor's pages (flows/web/auditor.py): the completion log under its chain's
verification, one entry with its evidence, evidence downloads, the log's exports and the
evidence pack — all read only, and only of the signed-in person's organisation."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import openpyxl
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from config import SHIPPED_ROADMAP
from config.settings import get_settings
from flows.usecases import audit, occurrences, staff
from flows.web.app import create_app
from models.core.evidence_rules import Evidence
from models.evidence import store as evidence_store
from models.store.audit import LOG_COLUMNS
from models.store.db import get_engine, session_scope
from models.store.ledger import LogFilter
from models.store.occurrences import OccurrenceRef
from models.store.tables import OccurrenceRow, Submission
from tests.conftest import NOW

PASSWORD = "a long password 123"
REPORT = "Жылдық есеп 2025.pdf"
REPORT_BYTES = b"%PDF-1.4 integrated annual report 2025\n"


@dataclass(frozen=True)
class Recorded:
    """What the KT fixture recorded: E6's completion (entry 1), then E2's (entry 2, the head)
    with its evidence file."""

    seq: int
    hash: str
    sha256: str
    e6_seq: int


def _complete(engine: sa.Engine, tmp_path: Path, *, org: str, name: str, content: bytes, by: str = "Айгерім"
              ) -> occurrences.Recorded:
    folder = tmp_path / f"{org}-{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    path = folder / name
    path.write_bytes(content)
    return occurrences.record_completion(engine, ref=OccurrenceRef(org=org, measure="E2", period=2025), actor=by,
                                         evidence=Evidence(note="the annual report"), files=[path],
                                         store_root=get_settings().evidence_dir, now=NOW)


def _record_kt(engine: sa.Engine, tmp_path: Path) -> None:
    for username, role in (("aud", "auditor"), ("esg", "esg_office")):  # first: E2's completion is the head
        staff.add_user(engine, org="KT", username=username, name=username.title(), role=role, password=PASSWORD,
                       email=None, now=NOW)
    occurrences.record_completion(engine, ref=OccurrenceRef(org="KT", measure="E6", period=2025), actor="bolat",
                                  evidence=Evidence(ref="45-п", date=NOW.date().replace(day=1)), files=[],
                                  store_root=get_settings().evidence_dir, now=NOW)
    _complete(engine, tmp_path, org="KT", name=REPORT, content=REPORT_BYTES)


@pytest.fixture
def kt(imported: sa.Engine, db_url: str, snapshot, tmp_path: Path) -> Recorded:
    """KT after the import: E6 2025 completed with an order's number and date, then E2 2025
    with a report (a Kazakh file name); an auditor and an ESG officer. Built once per
    session (argon2 and the completions take seconds), copied for each test."""
    snapshot("auditor-pages-kt", lambda: _record_kt(get_engine(db_url), tmp_path))
    e6, e2 = audit.log(get_engine(db_url), where=LogFilter(org="KT", event="completed"))
    return Recorded(e2["seq"], e2["hash"], e2["sha256"][0], e6["seq"])


@pytest.fixture
def engine_now(kt: Recorded, db_url: str) -> sa.Engine:
    """The test's database, once KT's history is in place."""
    return get_engine(db_url)


@pytest.fixture
def other(engine_now: sa.Engine, tmp_path: Path) -> occurrences.Recorded:
    """Organisation XX (the shipped roadmap engine_now, as for KT), with a completion of its own
    whose file KT never recorded, and a user of its own; its chain is longer than KT's."""
    from flows.usecases import roadmap as roadmaps
    from models.core.normalised import load_roadmap

    with session_scope(engine_now) as s:
        roadmaps.import_roadmap(s, org="XX", loaded=load_roadmap(SHIPPED_ROADMAP), now=NOW)
    staff.add_user(engine_now, org="XX", username="xaud", name="X Auditor", role="auditor", password=PASSWORD,
                   email=None, now=NOW)
    e6 = OccurrenceRef(org="XX", measure="E6", period=2025)
    for n in range(2):  # completed, reopened, completed again: a chain longer than KT's
        occurrences.record_completion(engine_now, ref=e6, actor="x", evidence=Evidence(ref=f"X-{n}", date=NOW.date()),
                                      files=[], store_root=get_settings().evidence_dir, now=NOW)
        if n == 0:
            occurrences.reopen_occurrence(engine_now, ref=e6, actor="x", reason="wrong order", now=NOW)
    return _complete(engine_now, tmp_path, org="XX", name="secret.pdf", content=b"%PDF XX's own file")


@pytest.fixture
def app(engine_now: sa.Engine):
    return create_app(engine=engine_now, clock=lambda: NOW)


def _client(app, username: str | None = "aud") -> TestClient:
    client = TestClient(app)
    if username is not None:
        form = client.get("/login").text
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)
        assert csrf is not None
        answer = client.post("/login", data={"csrf": csrf.group(1), "username": username, "password": PASSWORD,
                                             "next": "/dashboard"}, follow_redirects=False)
        assert answer.status_code == 303, answer.text
    return client


# --- the log ---------------------------------------------------------------------------------


def test_auditor_lands_on_the_log_with_the_chain_verified(app, kt):
    page = _client(app).get("/ledger")
    assert page.status_code == 200
    body = page.text
    head = re.search(r'class="ok" role="status">chain verified: (\d+) entries, head <code>([0-9a-f]{64})</code>',
                     body)
    assert head is not None, body
    assert (int(head.group(1)), head.group(2)) == (kt.seq, kt.hash)
    assert f'<a href="/ledger/{kt.seq}"><code>{kt.hash[:12]}…</code></a>' in body
    assert 'data-event="completed"' in body and "Айгерім" in body and "45-п" in body
    assert "2026-11-16 04:00:00" in body  # the entry's time, UTC
    for target in ("/ledger/export.csv", "/ledger/export.json", "/ledger/export.xlsx", 'action="/ledger/pack"'):
        assert target in body


def test_sign_in_as_auditor_goes_to_the_log(app, kt):
    client = TestClient(app)
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text)
    assert csrf is not None
    answer = client.post("/login", data={"csrf": csrf.group(1), "username": "aud", "password": PASSWORD,
                                         "next": "/dashboard"}, follow_redirects=False)
    assert answer.headers["location"] == "/ledger"


def test_filters_narrow_the_log(app, kt):
    client = _client(app)

    def seqs(**params: str) -> list[int]:
        answer = client.get("/ledger", params=params)
        assert answer.status_code == 200, answer.text
        return [int(s) for s in re.findall(r'<tr id="e(\d+)"', answer.text)]

    every = seqs()
    assert seqs(event="completed") == [kt.e6_seq, kt.seq] == every[-2:]
    assert seqs(event="staff_account") == every[:-2]  # the two accounts, added before
    assert seqs(measure="e6") == [kt.e6_seq]
    assert seqs(actor="BOLAT") == [kt.e6_seq]  # exact, any case
    assert seqs(aspect="E", period="2025", event="completed") == [kt.e6_seq, kt.seq]
    assert seqs(aspect="S", event="completed") == []
    assert seqs(period="2031", event="completed") == []
    assert seqs(period="", measure="", event="") == every  # the form's empty fields filter nothing
    kept = client.get("/ledger", params={"measure": "E6", "event": "completed"}).text
    assert "/ledger/export.csv?measure=E6&amp;event=completed" in kept  # the exports keep the filters
    assert '<option value="completed" selected>' in kept


@pytest.mark.parametrize(("params", "message"), [
    ({"measure": "Z9"}, "no measure 'Z9'"),
    ({"event": "deleted"}, "the event is one of"),
    ({"aspect": "X"}, "the aspect is E, S or G"),
    ({"period": "last year"}, "the period is a year"),
])
def test_a_bad_filter_is_a_400_page_that_says_why(app, kt, params, message):
    answer = _client(app).get("/ledger", params=params)
    assert answer.status_code == 400
    assert message in html.unescape(answer.text) and 'role="alert"' in answer.text
    assert "chain verified" in answer.text  # still the page, with the chain's status


def test_verify_page_lists_what_it_checked(app, kt):
    body = _client(app).get("/verify").text
    assert f"chain verified: {kt.seq} entries" in body
    assert kt.sha256 in body and REPORT in body and "Evidence files" in body


def test_a_changed_evidence_file_fails_the_chain_and_is_gone(app, kt):
    stored = evidence_store.path_for(get_settings().evidence_dir, kt.sha256)
    stored.chmod(0o644)
    stored.write_bytes(b"%PDF forged")
    client = _client(app)
    body = client.get("/ledger").text
    assert 'class="bad" role="alert">chain NOT verified: entry' in body and "was changed" in body
    answer = client.get(f"/evidence/{kt.sha256}")
    assert answer.status_code == 410 and "was changed" in answer.text
    stored.unlink()
    answer = client.get(f"/evidence/{kt.sha256}")
    assert answer.status_code == 410 and "missing from the store" in answer.text


# --- one entry and its evidence ------------------------------------------------------------


def test_entry_page_shows_its_hashes_payload_and_evidence(app, kt):
    client = _client(app)
    answer = client.get(f"/ledger/{kt.seq}")
    assert answer.status_code == 200
    body = answer.text
    assert f'<code id="hash">{kt.hash}</code>' in body and f'href="/ledger/{kt.seq - 1}"' in body
    assert f'<a href="/evidence/{kt.sha256}" download>' in body and REPORT in body
    assert f'<td class="num">{len(REPORT_BYTES)}</td>' in body
    assert "&#34;completion_form&#34;:" in body or '"completion_form":' in body  # the payload, pretty-printed
    assert "\n  &#34;data&#34;: {" in body or '\n  "data": {' in body


def test_download_returns_the_exact_bytes_under_the_recorded_name(app, kt):
    answer = _client(app).get(f"/evidence/{kt.sha256}")
    assert answer.status_code == 200
    assert answer.content == REPORT_BYTES
    assert answer.headers["content-type"] == "application/octet-stream"
    assert answer.headers["content-disposition"] == f"attachment; filename*=UTF-8''{quote(REPORT, safe='')}"
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_the_esg_office_downloads_too(app, kt):
    assert _client(app, "esg").get(f"/evidence/{kt.sha256}").content == REPORT_BYTES


@pytest.mark.parametrize("name", [
    "0" * 64,                       # well-formed, but no entry names it
    "..%2F..%2Fetc%2Fpasswd",       # traversal, encoded
    "%2E%2E",
    "etc%2Fpasswd",
])
def test_unknown_or_malformed_hashes_are_not_found(app, kt, name):
    assert _client(app).get(f"/evidence/{name}", follow_redirects=False).status_code == 404


def test_a_hash_in_another_case_or_length_is_not_found(app, kt):
    client = _client(app)
    for name in (kt.sha256.upper(), kt.sha256[:63], kt.sha256 + "0", f" {kt.sha256}"):
        assert client.get(f"/evidence/{quote(name)}").status_code == 404, name


def test_a_file_in_the_store_that_nothing_names_is_not_served(app, kt, tmp_path):
    loose = tmp_path / "loose.pdf"
    loose.write_bytes(b"%PDF put in the store, named by no entry")
    sha = evidence_store.store(get_settings().evidence_dir, loose).sha256
    assert _client(app).get(f"/evidence/{sha}").status_code == 404


def test_a_submissions_file_is_served_to_its_organisation(app, kt, engine_now, tmp_path):
    """An officer's submission names a file (payload → evidence → files): the organisation's
    staff may read it before any decision."""
    upload = tmp_path / "offer.pdf"
    upload.write_bytes(b"%PDF submitted for review")
    stored = evidence_store.store(get_settings().evidence_dir, upload).as_dict()
    with session_scope(engine_now) as s:
        occurrence = s.exec(sa.select(OccurrenceRow.id).where(OccurrenceRow.org == "KT")).scalars().first()
        s.add(Submission(org="KT", occurrence_id=occurrence, measure="E1", period=2025, person="p1",
                         kind="completion", payload={"evidence": {"files": [stored]}}, created_at=NOW))
    answer = _client(app).get(f"/evidence/{stored['sha256']}")
    assert answer.status_code == 200 and answer.content == b"%PDF submitted for review"
    assert answer.headers["content-disposition"].endswith("offer.pdf")


def test_missing_entry_is_not_found(app, kt):
    client = _client(app)
    for seq in ("9999", "0", "-1", "E2", "1.0", "²"):
        assert client.get(f"/ledger/{seq}").status_code == 404, seq


# --- another organisation ------------------------------------------------------------------


def test_another_organisations_entries_and_files_are_not_found(app, kt, other):
    xx_sha = json.loads(other.entry.payload)["data"]["evidence"]["files"][0]["sha256"]
    assert other.entry.seq > kt.seq
    client = _client(app)
    assert client.get(f"/ledger/{other.entry.seq}").status_code == 404
    assert client.get(f"/evidence/{xx_sha}").status_code == 404
    body = client.get("/ledger").text
    assert other.entry.hash[:12] not in body and "secret.pdf" not in body
    assert f"chain verified: {kt.seq} entries" in body
    for fmt in ("csv", "json"):
        assert other.entry.hash not in client.get(f"/ledger/export.{fmt}").text
    # and XX's own auditor reads XX's, not KT's
    theirs = _client(app, "xaud")
    assert theirs.get(f"/evidence/{xx_sha}").content == b"%PDF XX's own file"
    assert theirs.get(f"/evidence/{kt.sha256}").status_code == 404
    assert kt.hash not in theirs.get(f"/ledger/{kt.seq}").text


# --- exports and the pack ------------------------------------------------------------------


def test_csv_export(app, kt):
    answer = _client(app).get("/ledger/export.csv", params={"event": "completed"})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert answer.headers["content-disposition"] == "attachment; filename*=UTF-8''ledger-KT-20261116.csv"
    assert answer.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig")), dialect="excel"))
    assert list(table[0]) == LOG_COLUMNS
    assert [(r["seq"], r["measure"]) for r in table] == [(str(kt.e6_seq), "E6"), (str(kt.seq), "E2")]
    assert table[1]["files"] == REPORT and table[1]["sha256"] == kt.sha256 and table[1]["hash"] == kt.hash
    assert table[0]["evidence_ref"] == "45-п" and table[0]["actor"] == "bolat"


def test_json_export(app, kt):
    answer = _client(app).get("/ledger/export.json", params={"measure": "E2"})
    assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
    rows = answer.json()
    assert [(r["seq"], r["event"]) for r in rows] == [(kt.seq, "completed")]
    assert rows[0]["data"]["evidence"]["files"][0]["name"] == REPORT and rows[0]["org"] == "KT"


def test_xlsx_export(app, kt):
    answer = _client(app).get("/ledger/export.xlsx", params={"period": "2025"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert answer.headers["content-disposition"].endswith("ledger-KT-20261116.xlsx")
    values = list(openpyxl.load_workbook(io.BytesIO(answer.content)).active.values)
    columns = ["org", "seq", "at (Asia/Almaty)", "at_utc", *LOG_COLUMNS[3:]]
    assert list(values[0]) == columns
    assert [row[columns.index("measure")] for row in values[1:]] == ["E6", "E2"]
    assert values[1][2].hour == 9  # 04:00 UTC is 09:00 in Almaty


def test_exports_refuse_bad_filters_and_formats(app, kt):
    client = _client(app)
    answer = client.get("/ledger/export.csv", params={"measure": "Z9"})
    assert answer.status_code == 400 and "no measure" in answer.text
    assert client.get("/ledger/export.pdf").status_code == 404


def test_evidence_pack_is_a_zip_with_its_manifest(app, kt, monkeypatch):
    made: list[Path] = []
    real = tempfile.mkdtemp

    def mkdtemp(**kwargs: str) -> str:  # the folder the portal writes the pack in
        made.append(Path(real(**kwargs)))
        return str(made[-1])

    monkeypatch.setattr(tempfile, "mkdtemp", mkdtemp)
    client = _client(app)
    answer = client.post("/ledger/pack", data={"csrf": _csrf(client), "period": "2025"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/zip"
    assert answer.headers["content-disposition"] == "attachment; filename*=UTF-8''evidence-pack-KT-2025.zip"
    with zipfile.ZipFile(io.BytesIO(answer.content)) as pack:
        names = pack.namelist()
        manifest = json.loads(pack.read("manifest.json"))
    assert {"manifest.json", "manifest.csv", "ledger.jsonl", "SHA256SUMS"} <= set(names)
    assert any(n.startswith(f"evidence/{kt.sha256}") for n in names)
    assert manifest["period"] == 2025 and manifest["generated_by"] == "Aud (aud, auditor)"
    assert manifest["generated_at"].startswith("2026-11-16T04:00:00")
    packs = [m for m in made if m.name.startswith("esgtrack-pack-")]
    assert len(packs) == 1 and not packs[0].exists()  # the temporary pack is removed once sent


def _csrf(client: TestClient) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', client.get("/ledger").text)
    assert found is not None
    return found.group(1)


def test_pack_form_and_bad_periods(app, kt):
    client = _client(app)
    token = _csrf(client)
    answer = client.post("/ledger/pack", data={"csrf": token, "period": "soon"})
    assert answer.status_code == 400 and "is a year" in answer.text
    answer = client.post("/ledger/pack", data={"csrf": token, "period": "1999"})
    assert answer.status_code == 400 and "KT has no occurrences in 1999" in answer.text
    # a pack signs a checkpoint: no other site may make one for a signed-in auditor
    assert client.post("/ledger/pack", data={"period": "2025"}).status_code == 403
    assert client.get("/ledger/pack/2025").status_code == 404


# --- who may see what ----------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/ledger", "/verify", "/ledger/1", "/ledger/export.csv",
                                  f"/evidence/{'a' * 64}"])
def test_anonymous_requests_go_to_sign_in(app, kt, path):
    answer = _client(app, None).get(path, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == f"/login?next={path}"


def test_an_auditor_cannot_accept_a_submission(app, kt):
    client = _client(app)
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/ledger").text)
    assert csrf is not None
    answer = client.post("/review/1/accept", data={"csrf": csrf.group(1)}, follow_redirects=False)
    assert answer.status_code == 403
    assert client.get("/review").status_code == 403
