"""Verifying an evidence pack offline (pure): no database, only the ZIP.

The chain is re-computed from ledger.jsonl; the manifest is re-derived from it — its head,
completions, events, evidence, roadmap editions, and each occurrence's state, entries and
standing completion — and must match; every file against its SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509

from models.core import merkle
from models.core.ledger import Entry, Facts, disagreement, verify_chain
from models.evidence.pack import derived, occurrence_row
from models.evidence.standalone import member_problems, seal_problems, token_problems
from models.evidence.store import CHUNK


@dataclass
class PackResult:
    ok: bool = True
    org: str | None = None
    period: int | None = None
    head: str | None = None
    head_seq: int = 0
    entries: int = 0
    files: int = 0
    anchor_seq: int | None = None
    first_bad: int | None = None
    signed: bool = False  # sealed by the verifier key given
    trusted_time: str | None = None  # what checkpoint.tsr proves, when checked with a TSA certificate
    problems: list[str] = field(default_factory=list)

    def fail(self, problem: str, seq: int | None = None) -> None:
        self.ok = False
        self.problems.append(problem)
        if seq is not None and (self.first_bad is None or seq < self.first_bad):
            self.first_bad = seq


def _sha(zf: zipfile.ZipFile, name: str) -> str:
    digest = hashlib.sha256()
    with zf.open(name) as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def verify_pack(path: Path, *, anchor: str | None = None, key: tuple[str, bytes] | None = None,
                tsa: list[x509.Certificate] | None = None) -> PackResult:
    """Check a pack without any database: the chain re-computed from ledger.jsonl, the
    manifest's head, completions and evidence against it, and every file's hash. With a
    verifier key (name, public key), also that the pack is sealed by it: pack.sig signs its
    SHA256SUMS, checkpoint.txt signs the chain's Merkle root, and every inclusion proof in the
    manifest verifies against that root. With TSA certificates too, that checkpoint.tsr is an
    RFC 3161 token for checkpoint.txt signed by that TSA (its trusted time)."""
    result = PackResult()
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        result.fail(f"{path}: not a readable ZIP file ({exc})")
        return result
    with zf:
        try:
            read = _check(result, zf, anchor)
            if key is not None and result.ok and read is not None:
                _check_seal(result, zf, key, *read)
                if tsa is not None and result.signed:
                    problems, result.trusted_time = token_problems(zf, tsa)
                    for problem in problems:
                        result.fail(problem)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:  # a malformed pack
            result.fail(f"the pack is malformed: {type(exc).__name__}: {exc}")
    return result


def _check(result: PackResult, zf: zipfile.ZipFile, anchor: str | None) -> tuple[dict, list[Entry]] | None:
    """The checks without a key; returns the manifest and the chain read, when both could be."""
    names = set(zf.namelist())
    missing = [n for n in ("manifest.json", "ledger.jsonl") if n not in names]
    if missing:
        result.fail(f"the pack has no {', '.join(missing)}")
        return None
    manifest = json.loads(zf.read("manifest.json"))
    chain = _chain(zf, result)
    if chain is None:
        return None
    _check_chain(result, manifest, chain, anchor)
    if result.ok:
        _check_manifest(result, manifest, chain, zf, names)
    _check_sums(result, zf, names)
    return manifest, chain


def _chain(zf: zipfile.ZipFile, result: PackResult) -> list[Entry] | None:
    chain = []
    for number, line in enumerate(zf.read("ledger.jsonl").decode("utf-8").splitlines(), start=1):
        try:
            chain.append(Entry(**json.loads(line)))
        except (ValueError, TypeError) as exc:
            result.fail(f"ledger.jsonl line {number} is not a ledger entry ({exc})", number)
            return None
    return chain


def _check_chain(result: PackResult, manifest: dict, chain: list[Entry], anchor: str | None) -> None:
    verified = verify_chain(chain, org=manifest.get("org"), anchor=anchor)
    result.org, result.period = manifest.get("org"), manifest.get("period")
    result.head, result.head_seq, result.entries = verified.head, verified.head_seq, verified.count
    result.anchor_seq = verified.anchor_seq
    if not verified.ok:
        result.fail(f"ledger.jsonl: {verified.reason}", verified.first_bad)
        return
    head = manifest.get("chain") or {}
    if head.get("head") != verified.head or head.get("seq") != verified.head_seq:
        result.fail(f"manifest.json names chain head {head.get('head')} (entry {head.get('seq')}) "
                    f"but ledger.jsonl ends at {verified.head} (entry {verified.head_seq})")
    if anchor and verified.anchor_seq is None:
        result.fail(f"head {anchor} is not in the pack's chain: the ledger was rewritten")


def _check_manifest(result: PackResult, manifest: dict, chain: list[Entry],
                    zf: zipfile.ZipFile, names: set[str]) -> None:
    """The manifest re-derived from the chain: its completions, events, evidence, editions and
    each occurrence's entries and standing completion must be exactly what the entries say;
    the evidence files must be in the pack with those hashes."""
    period = manifest.get("period")
    says = derived(chain, int(period or 0))
    _same(result, "completion", manifest.get("completions"), says["completions"], ("seq",))
    _same(result, "event", manifest.get("events"), says["events"], ("seq",))
    _same(result, "evidence file", manifest.get("evidence"), says["evidence"], ("seq", "sha256"))
    _check_editions(result, manifest, says["editions"])
    _check_rows(result, manifest, says)
    _check_files(result, says["evidence"], zf, names)
    _check_states(result, manifest, says["state"])


def _plain(value: Any) -> Any:
    return json.loads(json.dumps(value, sort_keys=True, default=str))


def _same(result: PackResult, what: str, listed: Any, expected: list[dict], key: tuple[str, ...]) -> None:
    """A list of the manifest against the one re-derived from the chain, keyed by entry:
    missing, extra and differing items, each naming the entry and the field."""
    if not isinstance(listed, list):
        result.fail(f"manifest.json has no list of {what}s")
        return
    items = _plain(listed)
    counts = Counter(tuple(item.get(k) for k in key) for item in items)
    for at, count in sorted(counts.items(), key=str):
        if count > 1:  # a reader takes the first copy, a check the last: one copy or none
            seq = at[0] if isinstance(at[0], int) else None
            result.fail(f"manifest.json lists the {what} of entry {at[0]} {count} times", seq)
    found = {tuple(item.get(k) for k in key): item for item in items}
    for item in _plain(expected):
        at = tuple(item[k] for k in key)
        seq = item["seq"]
        mine = found.pop(at, None)
        if mine is None:
            result.fail(f"entry {seq} records a {what} of the period that the manifest omits", seq)
            continue
        for field_ in sorted(set(item) | set(mine)):
            if item.get(field_) != mine.get(field_):
                result.fail(f"manifest.json: the {what} of entry {seq} has {field_} {mine.get(field_)!r} but the "
                            f"ledger says {item.get(field_)!r}", seq)
                break
    for at in found:
        seq = at[0] if isinstance(at[0], int) else None
        result.fail(f"manifest.json lists a {what} (entry {at[0]}) that the chain does not hold", seq)


def _check_editions(result: PackResult, manifest: dict, imports: dict[Any, dict]) -> None:
    """Every roadmap edition the chain records an import of, as the import entry says."""
    editions = _plain(manifest.get("roadmap_editions") or [])
    listed = {e.get("edition_id"): e for e in editions}
    recorded = {entry["edition_id"] for entry in _plain(list(imports.values()))}
    for edition_id, count in Counter(e.get("edition_id") for e in editions).items():
        if count > 1 or edition_id not in recorded:
            result.fail(f"manifest.json lists roadmap edition {edition_id}"
                        + (f" {count} times" if count > 1 else ", which no import entry of the chain records"))
    current = manifest.get("current_edition")
    last = editions[-1].get("edition_id") if editions else None
    if current != last:
        result.fail(f"manifest.json names {current} its current edition, not the last edition it lists")
    for entry in _plain(list(imports.values())):
        edition_id = entry["edition_id"]
        mine = listed.get(edition_id)
        seq = entry["ledger_entry"]["seq"]
        if mine is None:
            result.fail(f"entry {seq} imports roadmap edition {edition_id}, which the manifest omits", seq)
            continue
        for field_, value in entry.items():
            if mine.get(field_) != value:
                result.fail(f"manifest.json: roadmap edition {edition_id} has {field_} {mine.get(field_)!r} but "
                            f"entry {seq} says {value!r}", seq)
                break


def _check_rows(result: PackResult, manifest: dict, says: dict[str, Any]) -> None:
    """Each occurrence row's entries, standing completion and notification summary as they follow
    from the chain (and the pack's notifications); no occurrence the period's entries name left out."""
    rows = manifest.get("occurrences") or []
    notifications = manifest.get("notifications") or []
    for o in rows:
        stored = {k: v for k, v in o.items() if k not in ("events", "completion", "notifications")}
        expected = _plain(occurrence_row(stored, says["mine"], says["completions"], notifications))
        for field_ in ("events", "completion", "notifications"):
            if _plain(o.get(field_)) != expected[field_]:
                seq = (o.get("completion") or {}).get("seq") if field_ == "completion" else None
                result.fail(f"manifest.json says {o.get('measure')} {o.get('period')} has {field_} "
                            f"{o.get(field_)!r} but the ledger says {expected[field_]!r}", seq)
    listed = {o.get("occurrence_id") for o in rows}
    for e in says["mine"]:
        if e.occurrence_id is not None and e.occurrence_id not in listed:
            result.fail(f"entry {e.seq} is about occurrence {e.occurrence_id} ({e.measure} {e.period}), which "
                        "the manifest omits", e.seq)
            listed.add(e.occurrence_id)


def _check_files(result: PackResult, evidence: list[dict], zf: zipfile.ZipFile, names: set[str]) -> None:
    for item in evidence:
        if item["path"] not in names:
            result.fail(f"entry {item['seq']}: evidence file {item['path']} is missing from the pack", item["seq"])
        elif _sha(zf, item["path"]) != item["sha256"]:
            result.fail(f"entry {item['seq']}: evidence file {item['path']} was changed", item["seq"])
        else:
            result.files += 1


def _check_states(result: PackResult, manifest: dict, state: dict[int, Facts]) -> None:
    for o in manifest.get("occurrences", []):
        found = disagreement(state.get(o["occurrence_id"]), status=o["status"], completed_at=o.get("completed_at"),
                             late=o.get("late"), due=o.get("due") or "", rescheduled=bool(o.get("rescheduled")),
                             planned_due=o.get("planned_due"))
        if found is None:
            continue
        field, expected, stored, seq = found
        if field == "status":
            result.fail(f"manifest.json says {o['measure']} {o['period']} is {o['status']} but the "
                        f"ledger says {expected}" + (f" (entry {seq})" if seq else ""), seq)
        else:
            result.fail(f"manifest.json says {o['measure']} {o['period']} has {field} {stored} but the "
                        f"ledger says {expected}" + (f" (entry {seq})" if seq else ""), seq)


def _check_seal(result: PackResult, zf: zipfile.ZipFile, key: tuple[str, bytes], manifest: dict,
                chain: list[Entry]) -> None:
    name, public = key
    names = set(zf.namelist())
    missing = [n for n in ("pack.sig", "checkpoint.txt") if n not in names]
    if missing:
        result.fail(f"the pack is not sealed: it has no {', '.join(missing)} (`esgtrack keys init`, then "
                    "write the pack again)")
        return
    problems = seal_problems(zf, name=name, public=public, manifest=manifest,
                             leaves=merkle.ledger_leaves(e.hash for e in chain))
    for problem, seq in problems:
        result.fail(problem, seq)
    result.signed = not problems


def _check_sums(result: PackResult, zf: zipfile.ZipFile, names: set[str]) -> None:
    if "SHA256SUMS" not in names:
        result.fail("the pack has no SHA256SUMS")
        return
    for problem in member_problems(zf.namelist(), zf.read("SHA256SUMS")):
        result.fail(problem)
    for line in zf.read("SHA256SUMS").decode("utf-8").splitlines():
        digest, _, name = line.partition("  ")
        if name not in names:
            result.fail(f"{name} is listed in SHA256SUMS but missing from the pack")
        elif _sha(zf, name) != digest:
            result.fail(f"{name} does not match its SHA256SUMS line")
