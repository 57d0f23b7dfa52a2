"""Evidence packs: one organisation's period for an auditor, as a ZIP that verifies offline.

Inside: manifest.json and manifest.csv (occurrences, completions, evidence with hashes, the
notifications sent, the roadmap editions, the chain head), evidence.csv, notifications.csv,
events.csv, ledger.jsonl (the organisation's whole chain, so it verifies without the
database), evidence/<sha256>-<name> (the files), README.txt and SHA256SUMS.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.core import merkle, notes
from models.core.delivery import OutboxStatus
from models.core.ledger import ALGORITHM, COMPLETED, ROADMAP_IMPORTED, Entry, state_from_events
from models.core.schedule import OccurrenceStatus
from models.core.sheets import csv_bytes
from models.evidence import standalone
from models.evidence.standalone import seal_text
from models.evidence.store import path_for

FORMAT = "esgtrack-evidence-pack/1"
OCCURRENCE_COLUMNS = ["org", "measure", "aspect", "period", "kind", "status", "due",
                      "planned_due", "rescheduled", "completed_at", "late", "completed_by",
                      "completion_seq", "completion_hash", "evidence_ref", "evidence_date",
                      "valid_until", "evidence_files", "evidence_sha256", "urls",
                      "notifications_sent", "first_notified_at", "last_notified_at", "notified",
                      "events", "completion_form", "title", "occurrence_id"]
EVIDENCE_COLUMNS = ["seq", "event", "measure", "period", "name", "size", "sha256", "path"]
NOTIFICATION_COLUMNS = ["occurrence_id", "measure", "step", "kind", "recipient", "channel",
                        "status", "attempts", "masked_target", "created_at", "sent_at"]
EVENT_COLUMNS = ["seq", "at", "event", "actor", "measure", "period", "occurrence_id", "hash", "data"]


# Kazakh and Russian Cyrillic → Latin, for file names only (the manifest keeps the real name).
_CYRILLIC = dict(zip("абвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюяә",
                     ["a", "b", "v", "g", "gh", "d", "e", "e", "zh", "z", "i", "i", "k", "q", "l",
                      "m", "n", "ng", "o", "o", "p", "r", "s", "t", "u", "u", "u", "f", "kh", "h",
                      "ts", "ch", "sh", "shch", "", "y", "i", "", "e", "iu", "ia", "a"], strict=True))


def _latin(text: str) -> str:
    return "".join(_CYRILLIC.get(ch.lower(), ch).capitalize() if ch.isupper() and ch.lower() in _CYRILLIC
                   else _CYRILLIC.get(ch, ch) for ch in text)


def ascii_name(name: str) -> str:
    """A file name safe in any ZIP tool and mail client (DESIGN.md: ASCII attachment names)."""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    flat = unicodedata.normalize("NFKD", _latin(stem)).encode("ascii", "ignore").decode()
    flat = re.sub(r"[^A-Za-z0-9._-]+", "_", flat).strip("._")[:60] or "file"
    ext = re.sub(r"[^A-Za-z0-9]+", "", ext)[:10]
    return f"{flat}.{ext}" if ext else flat


def _completion(entry: Entry, superseded: bool) -> dict:
    data = entry.data
    evidence = data.get("evidence") or {}
    return {"seq": entry.seq, "hash": entry.hash, "occurrence_id": entry.occurrence_id,
            "measure": entry.measure, "period": entry.period, "actor": entry.actor, "at": entry.at,
            "completed_at": data.get("completed_at") or entry.at,
            "late": data.get("late"), "days_late": data.get("days_late"),
            "evidence": {k: evidence.get(k) for k in ("ref", "date", "valid_until", "urls", "note")},
            "files": evidence.get("files") or [], "superseded": superseded}


def derived(chain: list[Entry], period: int) -> dict[str, Any]:
    """What a manifest holds that follows from the chain alone: the period's entries, its
    completions (superseded or not), events and evidence files, the roadmap editions the
    imports record, and each occurrence's state. build_manifest writes them; verify_pack
    re-derives them and compares."""
    mine = [e for e in chain if e.period == period]
    state = state_from_events(chain)
    completions = [_completion(e, e.occurrence_id is None or e.occurrence_id not in state
                               or state[e.occurrence_id].seq != e.seq)
                   for e in mine if e.event == COMPLETED]
    evidence: list[dict] = []
    paths: dict[str, str] = {}
    for e in mine:  # completions, target readings: every entry of the period with files
        for f in (e.data.get("evidence") or {}).get("files") or []:
            paths.setdefault(f["sha256"], f"evidence/{f['sha256']}-{ascii_name(f['name'])}")
            evidence.append({"seq": e.seq, "event": e.event, "measure": e.measure,
                             "period": e.period, **f, "path": paths[f["sha256"]]})
    events = [{**{k: getattr(e, k) for k in ("seq", "at", "event", "actor", "measure", "period",
                                             "occurrence_id", "hash")}, "data": e.data} for e in mine]
    editions = {e.data.get("edition_id"): {**{k: e.data.get(k) for k in EDITION_FIELDS}, "imported_at": e.at,
                                           "ledger_entry": {"seq": e.seq, "hash": e.hash}}
                for e in chain if e.event == ROADMAP_IMPORTED}
    return {"mine": mine, "completions": completions, "evidence": evidence, "events": events,
            "editions": editions, "state": state}


EDITION_FIELDS = ("edition_id", "title", "source_name", "sha256", "horizon", "measure_count")


def build_manifest(contents: dict, *, head: dict, generated_at: str, generated_by: str) -> dict:
    """The manifest of a pack, from audit.pack_contents(...) and the verified head."""
    period = contents["period"]
    chain = derived(contents["chain"], period)
    completions = chain["completions"]
    imports = chain["editions"]
    editions = [{**ed, "ledger_entry": (imports.get(ed["edition_id"]) or {}).get("ledger_entry")}
                for ed in contents["editions"]]
    occurrences = [occurrence_row(o, chain["mine"], completions, contents["notifications"])
                   for o in contents["occurrences"]]
    return {
        "format": FORMAT, "org": contents["org"], "period": period,
        "generated_at": generated_at, "generated_by": generated_by,
        "chain": {**head, "algorithm": ALGORITHM},
        "roadmap_editions": editions,
        "current_edition": editions[-1]["edition_id"] if editions else None,
        "occurrences": occurrences, "completions": completions,
        "events": chain["events"], "evidence": chain["evidence"], "notifications": contents["notifications"],
    }


def occurrence_row(o: dict, mine: list[Entry], completions: list[dict], notes: list[dict]) -> dict:
    """An occurrence's manifest row: its stored fields, with the period's entries about it, its
    standing completion and the summary of its notifications."""
    oid = o["occurrence_id"]
    done = [c for c in completions if c["occurrence_id"] == oid and not c["superseded"]]
    told = [n for n in notes if n.get("occurrence_id") == oid]
    sent = [n for n in told if n.get("status") == OutboxStatus.SENT]
    times = [n["sent_at"] for n in sent if n.get("sent_at")]
    return {**o, "events": [e.seq for e in mine if e.occurrence_id == oid],
            "completion": done[-1] if done and o["status"] == OccurrenceStatus.DONE else None,
            "notifications": {"total": len(told), "sent": len(sent),
                              "first_sent_at": min(times, default=None),
                              "last_sent_at": max(times, default=None),
                              "recipients": sorted({str(n.get("recipient")) for n in sent})}}


def _occurrence_csv_row(org: str, o: dict) -> dict:
    c, n = o.get("completion") or {}, o["notifications"]
    ev, files = c.get("evidence") or {}, c.get("files") or []
    return {**o, "org": org, "completed_by": c.get("actor"), "completion_seq": c.get("seq"),
            "completion_hash": c.get("hash"), "evidence_ref": ev.get("ref"),
            "evidence_date": ev.get("date"), "valid_until": ev.get("valid_until"),
            "evidence_files": [f["name"] for f in files],
            "evidence_sha256": [f["sha256"] for f in files], "urls": ev.get("urls") or [],
            "notifications_sent": n["sent"], "first_notified_at": n["first_sent_at"],
            "last_notified_at": n["last_sent_at"], "notified": n["recipients"]}


README = """esgtrack evidence pack — {org}, period {period}

manifest.json / manifest.csv  occurrences of the period, their completions, evidence, notifications
evidence.csv                  every evidence file with its SHA-256; the files are under evidence/
notifications.csv             the reminders and escalations the outbox holds for these occurrences
events.csv                    the period's ledger entries
ledger.jsonl                  the organisation's whole ledger (hash chain), one entry a line
SHA256SUMS                    check with: sha256sum -c SHA256SUMS
checkpoint.txt, ledger.pub,   when the pack is sealed: a signed checkpoint (C2SP) of the chain's
pack.sig                      RFC 6962 Merkle root, the signer's verifier key (check with the copy
                              you trust), and the signed statement of SHA256SUMS, which binds
                              every other member; manifest.json "proofs" holds inclusion proofs
checkpoint.tsr                when a TSA timestamped the checkpoint: its RFC 3161 response (trusted
                              time; also: openssl ts -verify -data checkpoint.txt -in checkpoint.tsr)
verify_pack.py                checks a sealed pack without esgtrack (Python 3.11+, `cryptography`):
                              python3 verify_pack.py THIS.zip --key 'VERIFIER KEY' [--tsa-cert TSA.pem]

Chain head: {head} (entry {seq}). Verify offline: esgtrack verify --pack THIS.zip [--head HASH] [--key KEY]
Entry hash = {algorithm}.
The notifications come from the outbox table and are not part of the hash chain.
"""


@dataclass(frozen=True)
class Seal:
    """What signs a pack: the chain's signed checkpoint, the verifier key (for reference: an
    auditor checks with the copy they trust), a signer of note texts, and the checkpoint's RFC
    3161 timestamp response when it has trusted time."""

    checkpoint: str
    verifier: str
    sign: Callable[[str], str]
    token: bytes | None = None


def with_proofs(manifest: dict[str, Any], chain: list[Entry], checkpoint: notes.Checkpoint) -> dict[str, Any]:
    """The manifest with each of the period's entries' (and the imports') inclusion proofs
    against the pack's checkpoint, which covers the whole chain."""
    leaves = merkle.ledger_leaves(e.hash for e in chain[:checkpoint.size])
    wanted = [e.seq for e in chain[:checkpoint.size]
              if e.period == manifest["period"] or e.event == "roadmap_imported"]
    proofs = {str(seq): [p.hex() for p in merkle.inclusion_proof(seq - 1, leaves)] for seq in wanted}
    return {**manifest, "checkpoint": {"size": checkpoint.size, "root": checkpoint.root.hex(),
                                       "origin": checkpoint.origin, "time": checkpoint.time},
            "proofs": proofs}


def write_pack(out: Path, manifest: dict, *, chain: list[Entry], store_root: Path, seal: Seal | None = None) -> None:
    """Write the ZIP atomically (a temporary file renamed into place); sealed, it also holds
    checkpoint.txt, ledger.pub and pack.sig, the signed statement of its SHA256SUMS."""
    handle, temp = tempfile.mkstemp(dir=out.parent, prefix=".pack-", suffix=".zip")
    os.close(handle)
    try:
        with zipfile.ZipFile(temp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            sums = _write_members(zf, manifest, chain, store_root, seal)
            listing = "".join(f"{h}  {n}\n" for n, h in sorted(sums.items())).encode()
            zf.writestr("SHA256SUMS", listing)
            if seal is not None:
                zf.writestr("pack.sig", seal.sign(seal_text(manifest["org"], manifest["period"], listing)))
        os.replace(temp, out)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def _write_members(zf: zipfile.ZipFile, manifest: dict, chain: list[Entry], store_root: Path,
                   seal: Seal | None) -> dict:
    org, sums = manifest["org"], {}

    def put(name: str, data: bytes) -> None:
        zf.writestr(name, data)
        sums[name] = hashlib.sha256(data).hexdigest()

    put("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True).encode())
    put("manifest.csv", csv_bytes([_occurrence_csv_row(org, o) for o in manifest["occurrences"]],
                                  OCCURRENCE_COLUMNS))
    put("evidence.csv", csv_bytes(manifest["evidence"], EVIDENCE_COLUMNS))
    put("notifications.csv", csv_bytes(manifest["notifications"], NOTIFICATION_COLUMNS))
    put("events.csv", csv_bytes(manifest["events"], EVENT_COLUMNS))
    put("ledger.jsonl", "".join(json.dumps(e.as_dict(), ensure_ascii=False, sort_keys=True) + "\n"
                                for e in chain).encode())
    chain_head = manifest["chain"]
    put("README.txt", README.format(org=org, period=manifest["period"], head=chain_head["head"],
                                    seq=chain_head["seq"], algorithm=ALGORITHM).encode())
    if seal is not None:
        put("checkpoint.txt", seal.checkpoint.encode())
        put("ledger.pub", (seal.verifier + "\n").encode())
        put("verify_pack.py", standalone.script().encode())
        if seal.token is not None:
            put("checkpoint.tsr", seal.token)
    for item in manifest["evidence"]:
        if item["path"] not in sums:
            zf.write(path_for(store_root, item["sha256"]), item["path"])
            sums[item["path"]] = item["sha256"]
    return sums
