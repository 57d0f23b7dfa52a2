"""What auditors open: the log as CSV (Excel's dialect), XLSX (openpyxl) and JSON, and the
evidence pack, verified offline — and caught when tampered with."""

import csv
import datetime as dt
import io
import json
import os
import zipfile
from pathlib import Path

import openpyxl
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from models.core import notes
from models.store.audit import LOG_COLUMNS
from models.store.db import session_scope
from models.store.tables import OutboxMessage
from tests.db.ledger_helpers import rows

NASTY = "=HYPERLINK(\"http://evil\")"


@pytest.fixture
def recorded(cli, db_url, shipped_roadmap, tmp_path, snapshot):
    """KT with an import, three completions (one with a Kazakh-named file and a two-line note),
    a reschedule and a waiver; the outbox holds two messages about E2 2025."""

    def build() -> None:
        report = tmp_path / "Жылдық есеп 2025.pdf"
        report.write_bytes(b"%PDF integrated annual report 2025")
        for command in (
            ["roadmap", "import", str(shipped_roadmap), "--by", "esg-office"],
            ["complete", "E2", "--period", "2025", "--by", "Айгерім Сәрсенова", "--file", str(report),
             "--note", "бірінші жол\nsecond line, \"quoted\""],
            ["complete", "E6", "--period", "2025", "--by", NASTY, "--evidence-ref", "45-п",
             "--evidence-date", "2025-10-01"],
            ["reschedule", "S1", "--period", "2026", "--by", "esg", "--to", "2027-03-31",
             "--reason", "budget", "--approved-by", "Management Board"],
            ["waive", "E8", "--period", "2025", "--by", "esg", "--reason", "merged", "--approved-by", "CAO",
             "--not-applicable"],
            ["complete", "G8", "--period", "2025", "--by", "bolat", "--evidence-ref", "ISO-37001-9",
             "--valid-until", "2099-01-01"],
        ):
            code, out, err = cli(*command)
            assert code == 0, (command, out, err)
        e2 = json.loads(rows(_engine(db_url), "WHERE seq = 2")[0]["payload"])["occurrence_id"]
        sent = dt.datetime(2025, 12, 1, 4, 0, tzinfo=dt.UTC)
        with session_scope(_engine(db_url)) as s:
            for step, status in (("remind-30", "sent"), ("remind-7", "pending")):
                s.add(OutboxMessage(org="KT", idem_key=f"{e2}:{step}:ceo:email", occurrence_id=e2,
                                    measure="E2", step=step, kind="reminder", recipient="ceo",
                                    channel="email", status=status, attempts=1, masked_target="c***@kt.kz",
                                    created_at=sent, updated_at=sent, sent_at=sent if status == "sent" else None))

    snapshot("ledger-recorded", build)
    return _engine(db_url)


def _engine(url):
    from models.store.db import get_engine

    return get_engine(url)


def test_log_csv_opens_in_a_spreadsheet(cli, recorded, tmp_path):
    out = tmp_path / "log.csv"
    code, _, err = cli("log", "--format", "csv", "--out", str(out))
    assert code == 0, err
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # a BOM: Excel reads the file as UTF-8
    with out.open(encoding="utf-8-sig", newline="") as handle:
        table = list(csv.DictReader(handle, dialect="excel"))
    assert list(table[0]) == LOG_COLUMNS and len(table) == 6
    e2 = table[1]
    assert e2["actor"] == "Айгерім Сәрсенова" and e2["files"] == "Жылдық есеп 2025.pdf"
    assert e2["note"] == "бірінші жол\nsecond line, \"quoted\"" and len(e2["sha256"]) == 64
    assert table[2]["actor"] == "'" + NASTY  # kept as text, not run as a formula
    assert table[4]["summary"].startswith("not applicable, approved by CAO")


def test_log_xlsx_opens_with_openpyxl(cli, recorded, tmp_path):
    out = tmp_path / "log.xlsx"
    code, _, err = cli("log", "--format", "xlsx", "--out", str(out), "--period", "2025")
    assert code == 0, err
    sheet = openpyxl.load_workbook(out).active
    values = list(sheet.values)
    columns = ["org", "seq", "at (Asia/Almaty)", "at_utc", *LOG_COLUMNS[3:]]
    assert list(values[0]) == columns and len(values) == 5  # header + 2025's entries
    actors = [row[columns.index("actor")] for row in values[1:]]
    assert actors == ["Айгерім Сәрсенова", NASTY, "esg", "bolat"]
    cell = sheet.cell(row=3, column=columns.index("actor") + 1)
    assert cell.data_type == "s"  # a string, never a formula
    local, utc = values[1][2], values[1][3]  # a real date-time in Almaty (UTC+5), and the exact UTC text
    assert isinstance(local, dt.datetime) and utc.endswith("+00:00")
    assert local == dt.datetime.fromisoformat(utc).replace(tzinfo=None) + dt.timedelta(hours=5)


def test_log_json_and_filters(cli, recorded):
    code, out, err = cli("log", "--format", "json", "--event", "completed", "--aspect", "E")
    assert code == 0, err
    data = json.loads(out)
    assert [(e["measure"], e["seq"]) for e in data] == [("E2", 2), ("E6", 3)]
    assert data[0]["data"]["evidence"]["files"][0]["name"] == "Жылдық есеп 2025.pdf"
    code, out, _ = cli("log", "--format", "json", "--actor", "BOLAT")
    assert [e["measure"] for e in json.loads(out)] == ["G8"]


def test_log_table_and_bad_options(cli, recorded):
    code, out, _ = cli("log", "--measure", "E6")
    assert code == 0 and "E6" in out and "45-п" in out
    summaries = {e["measure"]: e["summary"] for e in json.loads(cli("log", "--format", "json")[1])}
    assert summaries["E6"].startswith("№ 45-п of 2025-10-01") and summaries["G8"].startswith("№ ISO-37001-9;")
    assert cli("log", "--format", "xlsx")[0] == 2
    assert cli("log", "--out", "log.txt")[0] == 2
    assert cli("log", "--event", "deleted")[0] == 2
    assert cli("log", "--org", "NOPE")[0] == 2


def pack(cli, tmp_path, period="2025"):
    out = tmp_path / f"pack-{period}.zip"
    code, _stdout, err = cli("evidence-pack", "--period", period, "--out", str(out))
    assert code == 0, err
    return out


def test_the_evidence_pack_holds_what_an_auditor_needs(cli, recorded, tmp_path):
    out = pack(cli, tmp_path)
    zf = zipfile.ZipFile(out)
    names = set(zf.namelist())
    assert {"manifest.json", "manifest.csv", "evidence.csv", "notifications.csv", "events.csv",
            "ledger.jsonl", "README.txt", "SHA256SUMS"} <= names
    manifest = json.loads(zf.read("manifest.json"))
    head = rows(recorded)[-1]
    assert manifest["chain"]["head"] == head["hash"] and manifest["chain"]["seq"] == 6
    assert (manifest["org"], manifest["period"]) == ("KT", 2025)
    assert manifest["roadmap_editions"][0]["ledger_entry"]["seq"] == 1
    assert [c["measure"] for c in manifest["completions"]] == ["E2", "E6", "G8"]
    [evidence] = manifest["evidence"]
    assert evidence["name"] == "Жылдық есеп 2025.pdf"
    assert evidence["path"] == f"evidence/{evidence['sha256']}-Zhyldyq_esep_2025.pdf"
    assert zf.read(evidence["path"]) == b"%PDF integrated annual report 2025"
    e2 = next(o for o in manifest["occurrences"] if o["measure"] == "E2")
    assert e2["status"] == "done" and e2["completion"]["actor"] == "Айгерім Сәрсенова"
    assert e2["notifications"]["sent"] == 1 and e2["notifications"]["recipients"] == ["ceo"]
    assert {n["step"] for n in manifest["notifications"]} == {"remind-30", "remind-7"}
    table = list(csv.DictReader(io.StringIO(zf.read("manifest.csv").decode("utf-8-sig")), dialect="excel"))
    row = next(r for r in table if r["measure"] == "E2")
    assert row["status"] == "done" and row["notifications_sent"] == "1"
    assert row["evidence_sha256"] == evidence["sha256"]
    assert len(zf.read("ledger.jsonl").decode().splitlines()) == 6


def test_a_pack_verifies_offline(cli, recorded, tmp_path, monkeypatch):
    out = pack(cli, tmp_path)
    head = rows(recorded)[3]["hash"]
    monkeypatch.setenv("ESGTRACK_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    code, stdout, err = cli("verify", "--pack", str(out), "--head", head)
    assert code == 0, err
    assert "intact" in stdout and "1 evidence file(s)" in stdout
    assert f"head {head} is entry 4; 2 entries came after it" in " ".join(stdout.split())


def rewrite(src, dst, **changes):
    """Copy a ZIP, replacing members (name → bytes, or a function of the old bytes; None drops)."""
    with zipfile.ZipFile(src) as old, zipfile.ZipFile(dst, "w") as new:
        for name in old.namelist():
            key = name.replace("/", "__").replace(".", "_").replace("-", "_")
            change = next((v for k, v in changes.items() if key.startswith(k)), ...)
            data = old.read(name)
            if change is None:
                continue
            if change is not ...:
                data = change(data) if callable(change) else change
            new.writestr(name, data)
    return dst


def _fix_sums(path):
    """An attacker who also rewrites SHA256SUMS."""
    import hashlib

    with zipfile.ZipFile(path) as zf:
        sums = "".join(f"{hashlib.sha256(zf.read(n)).hexdigest()}  {n}\n"
                       for n in sorted(zf.namelist()) if n != "SHA256SUMS")
    return rewrite(path, path.with_suffix(".fixed.zip"), SHA256SUMS=sums.encode())


@pytest.mark.parametrize("case, expected", [
    ("evidence", "entry 2: evidence file"),
    ("ledger", "entry 3"),
    ("drop_completion", "omits"),
    ("status", "ledger says open"),
    ("late", "G8 2025 has late"),
    ("due", "G8 2025 has due 2025-01-31 but the ledger says"),
    ("completed_at", "G8 2025 has completed_at 2025-01-01T00:00:00.000000+00:00"),
])
def test_a_tampered_pack_is_caught(cli, recorded, tmp_path, case, expected):
    out = pack(cli, tmp_path)
    bad = tmp_path / "bad.zip"
    if case == "evidence":
        rewrite(out, bad, evidence__=b"%PDF another report")
    elif case == "ledger":
        rewrite(out, bad, ledger_jsonl=lambda d: d.replace("45-п".encode(), "46-п".encode()))
    elif case == "drop_completion":
        def drop(d):
            m = json.loads(d)
            m["completions"] = [c for c in m["completions"] if c["measure"] != "G8"]
            return json.dumps(m).encode()
        rewrite(out, bad, manifest_json=drop)
    else:  # one field of one occurrence in the manifest
        measure, field, value = {"status": ("E3", "status", "done"), "late": ("G8", "late", None),
                                 "due": ("G8", "due", "2025-01-31"),
                                 "completed_at": ("G8", "completed_at", "2025-01-01T00:00:00.000000+00:00")}[case]

        def edit(d):
            m = json.loads(d)
            for o in m["occurrences"]:
                if o["measure"] == measure:
                    o[field] = (not o["late"]) if field == "late" else value
            return json.dumps(m).encode()
        rewrite(out, bad, manifest_json=edit)
    bad = _fix_sums(bad)
    code, stdout, err = cli("verify", "--pack", str(bad))
    assert code == 1, stdout
    assert expected in " ".join((stdout + err).split())


def _first(items, **where):
    return next(i for i in items if all(i.get(k) == v for k, v in where.items()))


@pytest.mark.parametrize("case, expected", [
    ("completion_ref", "the completion of entry 2 has evidence"),
    ("event_actor", "the event of entry 3 has actor 'mallory' but the ledger says"),
    ("evidence_name", "the evidence file of entry 2 has name 'other.pdf'"),
    ("edition_sha", "roadmap edition 1 has sha256 '00' but entry 1 says"),
    ("edition_dropped", "imports roadmap edition 1, which the manifest omits"),
    ("occurrence_events", "has events [] but the ledger says"),
    ("occurrence_dropped", "which the manifest omits"),
    ("superseded", "has superseded True but the ledger says False"),
    ("completion_twice", "lists the completion of entry 2 2 times"),
    ("event_twice", "lists the event of entry 3 2 times"),
    ("edition_invented", "lists roadmap edition 99, which no import entry of the chain records"),
    ("current_edition", "names 99 its current edition"),
])
def test_the_manifest_is_re_derived_from_the_chain(cli, recorded, tmp_path, case, expected):
    """An attacker edits what the chain says inside manifest.json and recomputes SHA256SUMS:
    without any key, verify --pack re-derives it from ledger.jsonl and names the entry."""
    def edit(data):
        m = json.loads(data)
        if case == "completion_ref":
            _first(m["completions"], seq=2)["evidence"]["ref"] = "forged"
        elif case == "event_actor":
            _first(m["events"], seq=3)["actor"] = "mallory"
        elif case == "evidence_name":
            _first(m["evidence"], seq=2)["name"] = "other.pdf"
        elif case == "edition_sha":
            m["roadmap_editions"][0]["sha256"] = "00"
        elif case == "edition_dropped":
            m["roadmap_editions"] = []
        elif case == "occurrence_events":
            _first(m["occurrences"], measure="G8")["events"] = []
        elif case == "occurrence_dropped":
            m["occurrences"] = [o for o in m["occurrences"] if o["measure"] != "G8"]
        elif case == "superseded":
            _first(m["completions"], seq=2)["superseded"] = True
        elif case == "completion_twice":  # a forged copy first: a reader taking the first sees it
            forged = {**_first(m["completions"], seq=2), "actor": "mallory"}
            m["completions"].insert(0, forged)
        elif case == "event_twice":
            m["events"].append({**_first(m["events"], seq=3), "actor": "mallory"})
        elif case == "edition_invented":
            m["roadmap_editions"].append({**m["roadmap_editions"][0], "edition_id": 99, "sha256": "00"})
            m["current_edition"] = 99
        elif case == "current_edition":
            m["current_edition"] = 99
        return json.dumps(m).encode()

    bad = _fix_sums(rewrite(pack(cli, tmp_path), tmp_path / "bad.zip", manifest_json=edit))
    code, stdout, err = cli("verify", "--pack", str(bad))
    assert code == 1, stdout
    assert expected in " ".join((stdout + err).split())


def test_a_changed_manifest_fails_its_checksums(cli, recorded, tmp_path):
    out = pack(cli, tmp_path)
    bad = rewrite(out, tmp_path / "bad.zip", manifest_csv=b"org\nforged\n")
    code, _, err = cli("verify", "--pack", str(bad))
    assert code == 1 and "manifest.csv does not match" in " ".join(err.split())


def test_no_pack_from_a_broken_ledger(cli, recorded, tmp_path):
    from tests.db.ledger_helpers import attack

    attack(recorded, "UPDATE ledger_entry SET actor = 'mallory' WHERE seq = 2")
    out = tmp_path / "pack.zip"
    code, _, err = cli("evidence-pack", "--period", "2025", "--out", str(out))
    assert code == 1 and "no pack written" in " ".join(err.split()) and not out.exists()


def test_no_pack_for_a_period_without_occurrences(cli, recorded, tmp_path):
    code, _, err = cli("evidence-pack", "--period", "2040", "--out", str(tmp_path / "p.zip"))
    assert code == 2 and "--period" in err


def test_a_missing_pack_is_bad_input(cli, tmp_path):
    assert cli("verify", "--pack", str(tmp_path / "nope.zip"))[0] == 2


@pytest.mark.parametrize("member, data", [("manifest_json", b"{not json"),
                                          ("ledger_jsonl", b'{"seq": "one"}\n'),
                                          ("manifest_json", None)])
def test_a_malformed_pack_is_a_failed_check_not_a_crash(cli, recorded, tmp_path, member, data):
    bad = rewrite(pack(cli, tmp_path), tmp_path / "bad.zip", **{member: data})
    code, _, err = cli("verify", "--pack", str(bad))
    assert code == 1 and "error:" in err


def test_target_reading_evidence_is_packed_and_checked(cli, recorded, tmp_path):
    from config.settings import get_settings
    from flows.usecases.targets import record_reading

    proof = tmp_path / "board-composition.pdf"
    proof.write_bytes(b"women on the Board: 2 of 9")
    record_reading(recorded, settings=get_settings(), org="KT", code="G5", metric=None, year=2025,
                   value=22.2, actor="esg", file=proof, now=dt.datetime(2025, 12, 20, tzinfo=dt.UTC))
    out = pack(cli, tmp_path)
    manifest = json.loads(zipfile.ZipFile(out).read("manifest.json"))
    assert {(e["event"], e["name"]) for e in manifest["evidence"]} >= {("target_reading", "board-composition.pdf")}
    assert cli("verify", "--pack", str(out))[0] == 0
    bad = rewrite(out, tmp_path / "bad.zip", evidence__=b"tampered")
    assert cli("verify", "--pack", str(_fix_sums(bad)))[0] == 1


def test_a_sealed_pack_binds_every_member_to_the_key(cli, recorded, tmp_path, monkeypatch):
    unsealed = pack(cli, tmp_path)
    assert cli("keys", "init")[0] == 0
    key = cli("keys", "show")[1].strip()
    code, _, err = cli("verify", "--pack", str(unsealed), "--key", key)
    assert code == 1 and "not sealed" in " ".join(err.split())
    sealed = tmp_path / "sealed.zip"
    code, _, err = cli("evidence-pack", "--period", "2025", "--out", str(sealed))
    assert code == 0 and "not sealed" not in err, err
    with zipfile.ZipFile(sealed) as zf:
        assert {"pack.sig", "checkpoint.txt", "ledger.pub"} <= set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
    assert manifest["checkpoint"]["size"] == 6 and set(manifest["proofs"]) == {"1", "2", "3", "5", "6"}
    monkeypatch.setenv("ESGTRACK_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")  # offline
    code, out, err = cli("verify", "--pack", str(sealed), "--key", key)
    assert code == 0 and "sealed by esgtrack/ledger" in " ".join(out.split()), err
    assert standalone(sealed, key, tmp_path) == (0, f"OK: {sealed} is sealed by the key, and its chain, "
                                                    "checkpoint, proofs and manifest hold")

    def retitle(data):  # what no ledger entry says: only the seal catches it
        m = json.loads(data)
        m["occurrences"][0]["title"] = "Something else"
        return json.dumps(m).encode()

    edited = _fix_sums(rewrite(sealed, tmp_path / "edited.zip", manifest_json=retitle))
    assert cli("verify", "--pack", str(edited))[0] == 0  # unsealed checks cannot see it
    code, _, err = cli("verify", "--pack", str(edited), "--key", key)
    assert code == 1 and "does not seal this pack's SHA256SUMS" in " ".join(err.split())
    code, out = standalone(edited, key, tmp_path)
    assert code == 1 and "FAILED: pack.sig does not seal this pack's SHA256SUMS" in out

    def bend(data):  # a proof that does not lead to the checkpoint's root
        m = json.loads(data)
        m["proofs"]["2"][0] = "00" * 32
        return json.dumps(m).encode()

    code, _, err = cli("verify", "--pack", str(sealed), "--key", "esgtrack/ledger+00000000+" + "A" * 44)
    assert code == 2 and "--key" in err  # not a verifier key at all
    other = Ed25519PrivateKey.generate()
    foreign = notes.verifier_key("esgtrack/ledger", notes.raw_public(other.public_key()))
    code, _, err = cli("verify", "--pack", str(sealed), "--key", foreign)
    assert code == 1 and "carries no signature" in " ".join(err.split())
    bent = _fix_sums(rewrite(sealed, tmp_path / "bent.zip", manifest_json=bend))
    code, _, err = cli("verify", "--pack", str(bent), "--key", key)
    assert code == 1 and "entry 2" in " ".join(err.split())


def standalone(pack_file, key, tmp_path, *extra):
    """Run the pack's own verify_pack.py as an auditor would: a Python without esgtrack (no site
    directory, so no editable install), given only the `cryptography` package."""
    import subprocess
    import sys

    import cryptography

    script = tmp_path / "auditor" / "verify_pack.py"
    script.parent.mkdir(exist_ok=True)
    with zipfile.ZipFile(pack_file) as zf:
        script.write_bytes(zf.read("verify_pack.py"))
    run = subprocess.run([sys.executable, "-S", str(script), str(pack_file), "--key", key, *extra], cwd=script.parent,
                         env={"PYTHONPATH": str(Path(cryptography.__file__).parents[1])},
                         capture_output=True, text=True, timeout=60)
    assert "Traceback" not in run.stderr, run.stderr
    return run.returncode, run.stdout.strip()


def test_a_member_not_in_sha256sums_or_stored_twice_is_caught(cli, recorded, tmp_path):
    out = pack(cli, tmp_path)
    extra = tmp_path / "extra.zip"
    with zipfile.ZipFile(out) as old, zipfile.ZipFile(extra, "w") as new:
        for name in old.namelist():
            new.writestr(name, old.read(name))
        new.writestr("evidence/board-decision-forged.pdf", b"%PDF forged")
    code, _, err = cli("verify", "--pack", str(extra))
    assert code == 1 and "board-decision-forged.pdf is in the pack but not in SHA256SUMS" in " ".join(err.split())
    twice = tmp_path / "twice.zip"
    with zipfile.ZipFile(out) as old, zipfile.ZipFile(twice, "w") as new, \
            pytest.warns(UserWarning, match="Duplicate name"):
        new.writestr("manifest.csv", b"org\nforged\n")  # what some unzip tools show
        for name in old.namelist():
            new.writestr(name, old.read(name))
    code, _, err = cli("verify", "--pack", str(twice))
    assert code == 1 and "manifest.csv is stored twice" in " ".join(err.split())


def test_a_sealed_pack_carries_the_checkpoints_trusted_time(cli, recorded, local_tsa, tmp_path, monkeypatch):
    from config.settings import get_settings
    from tests.tsa import make_ca, openssl_verifies, pem

    assert cli("keys", "init")[0] == 0
    key = cli("keys", "show")[1].strip()
    sealed = tmp_path / "sealed.zip"
    code, _, err = cli("evidence-pack", "--period", "2025", "--out", str(sealed))
    assert code == 0 and "trusted time: " in err, err
    with zipfile.ZipFile(sealed) as zf:
        assert "checkpoint.tsr" in zf.read("SHA256SUMS").decode()
        (tmp_path / "checkpoint.txt").write_bytes(zf.read("checkpoint.txt"))
        (tmp_path / "checkpoint.tsr").write_bytes(zf.read("checkpoint.tsr"))
    checked = openssl_verifies(tmp_path / "checkpoint.txt", tmp_path / "checkpoint.tsr", local_tsa)
    assert checked.returncode == 0 and "Verification: OK" in checked.stdout
    database = os.environ["ESGTRACK_DATABASE_URL"]
    monkeypatch.setenv("ESGTRACK_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")  # offline
    ca = str(local_tsa.ca_pem)
    code, out, err = cli("verify", "--pack", str(sealed), "--key", key, "--tsa-cert", ca)
    assert code == 0 and "trusted time: its checkpoint existed at " in " ".join(out.split()), err
    code, out = standalone(sealed, key, tmp_path, "--tsa-cert", ca)
    assert code == 0 and "OK: trusted time " in out and "by CN=Test TSA" in out, out
    other = tmp_path / "other-ca.pem"
    other.write_bytes(pem(make_ca("Another Root CA")[0]))
    code, _, err = cli("verify", "--pack", str(sealed), "--key", key, "--tsa-cert", str(other))
    assert code == 1 and "checkpoint.tsr: the token is signed by" in " ".join(err.split())
    code, out = standalone(sealed, key, tmp_path, "--tsa-cert", str(other))
    assert code == 1 and "FAILED: checkpoint.tsr: the token is signed by" in out
    code, _, err = cli("verify", "--pack", str(sealed), "--tsa-cert", ca)
    assert code == 2 and "give --key too" in err
    monkeypatch.setenv("ESGTRACK_DATABASE_URL", database)
    monkeypatch.delenv("ESGTRACK_TSA_URL")
    get_settings.cache_clear()
    untimed = tmp_path / "untimed.zip"
    assert cli("evidence-pack", "--period", "2025", "--out", str(untimed))[0] == 0
    code, _, err = cli("verify", "--pack", str(untimed), "--key", key, "--tsa-cert", ca)
    assert code == 1 and "the pack has no trusted time" in " ".join(err.split())
    assert cli("verify", "--pack", str(untimed), "--key", key)[0] == 0
