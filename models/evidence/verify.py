"""Verifying an evidence pack offline (pure): no database, only the ZIP.

The chain is re-computed from ledger.jsonl; the manifest's head, completions, evidence and
occurrence statuses are checked against it; every file against its SHA-256.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509

from models.core import merkle
from models.core.ledger import COMPLETED, Entry, disagreement, state_from_events, verify_chain
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
    by_seq = {e.seq: e for e in chain}
    period = manifest.get("period")
    listed = {(c["seq"], c["hash"]) for c in manifest.get("completions", [])}
    for seq, hash_ in sorted(listed):
        entry = by_seq.get(seq)
        if entry is None or entry.hash != hash_ or entry.event != COMPLETED:
            result.fail(f"manifest.json lists completion entry {seq} ({hash_[:12]}…) that the "
                        "chain does not hold", seq)
    for e in chain:
        if e.event == COMPLETED and e.period == period and (e.seq, e.hash) not in listed:
            result.fail(f"entry {e.seq} records a completion of the period that the manifest omits", e.seq)
    _check_evidence(result, manifest, by_seq, zf, names)
    _check_states(result, manifest, chain)


def _check_evidence(result: PackResult, manifest: dict, by_seq: dict[int, Entry],
                    zf: zipfile.ZipFile, names: set[str]) -> None:
    period = manifest.get("period")
    listed = {(item["seq"], item["sha256"]): item for item in manifest.get("evidence", [])}
    for entry in by_seq.values():
        if entry.period != period:
            continue
        for f in (entry.data.get("evidence") or {}).get("files") or []:
            item = listed.pop((entry.seq, f["sha256"]), None)
            if item is None:
                result.fail(f"entry {entry.seq}: evidence file {f['name']!r} is not in the manifest",
                            entry.seq)
            elif item["path"] not in names:
                result.fail(f"entry {entry.seq}: evidence file {item['path']} is missing from the "
                            "pack", entry.seq)
            elif _sha(zf, item["path"]) != f["sha256"]:
                result.fail(f"entry {entry.seq}: evidence file {item['path']} was changed", entry.seq)
            else:
                result.files += 1
    for (seq, _digest), item in listed.items():
        result.fail(f"manifest.json lists evidence {item.get('path')} that entry {seq} does not record", seq)


def _check_states(result: PackResult, manifest: dict, chain: list[Entry]) -> None:
    state = state_from_events(chain)
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
