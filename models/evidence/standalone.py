"""The evidence pack's own verifier, for an auditor without esgtrack: Python 3.11 and the
`cryptography` package only. The pack's verify_pack.py is this file preceded by the four
modules it needs, embedded as they are (models/core/chainhash.py, merkle.py, notes.py,
timestamps.py; see script()).

    python3 verify_pack.py PACK.zip --key 'esgtrack/ledger+1a2b3c4d+AbC…=' [--tsa-cert TSA.pem]

It checks every member against SHA256SUMS and SHA256SUMS against pack.sig (signed by the key);
re-computes the hash chain in ledger.jsonl; checks that checkpoint.txt (signed by the key) is
that chain's Merkle root; verifies every inclusion proof in manifest.json against it; and that
the manifest lists exactly the period's completions and evidence files the chain records.
With --tsa-cert (the TSA's certificate, or its CA's, as the auditor obtained it), also that
checkpoint.tsr is an RFC 3161 token for checkpoint.txt signed by that TSA: its trusted time.
Exit 0 when everything holds, 1 with the problems otherwise, 2 on bad arguments.
"""

from __future__ import annotations

import hashlib
import json
import sys
import zipfile
from collections import Counter
from pathlib import Path
from typing import Any

EMBEDS = ("chainhash", "merkle", "notes", "timestamps")
if "EMBEDDED" in globals():  # inside a pack's verify_pack.py: the modules precede this code
    chainhash, merkle, notes, timestamps = (globals()["EMBEDDED"][name] for name in EMBEDS)
else:  # inside esgtrack (its tests run this file as it is)
    from models.core import chainhash, merkle, notes, timestamps


def check(pack: Path, verifier: str, tsa: list[Any] | None = None) -> tuple[list[str], str | None]:
    """The problems found in the pack (none: it holds), and its trusted time when checked."""
    name, public = notes.parse_verifier_key(verifier)
    problems: list[str] = []
    stamp = None
    with zipfile.ZipFile(pack) as zf:
        members = set(zf.namelist())
        for needed in ("SHA256SUMS", "pack.sig", "checkpoint.txt", "ledger.jsonl", "manifest.json"):
            if needed not in members:
                return [f"the pack has no {needed} (is it sealed? `esgtrack keys init`, then write it again)"], None
        sums = zf.read("SHA256SUMS")
        problems += member_problems(zf.namelist(), sums)
        for line in sums.decode("utf-8").splitlines():
            digest, _, member = line.partition("  ")
            if member not in members or hashlib.sha256(zf.read(member)).hexdigest() != digest:
                problems.append(f"{member} does not match SHA256SUMS")
        manifest = json.loads(zf.read("manifest.json"))
        chain = [json.loads(line) for line in zf.read("ledger.jsonl").decode("utf-8").splitlines()]
        problems += _chain_problems(chain)
        leaves = merkle.ledger_leaves(e["hash"] for e in chain)
        problems += [problem for problem, _ in seal_problems(zf, name=name, public=public, manifest=manifest,
                                                             leaves=leaves)]
        problems += _manifest_problems(manifest, chain, members)
        if tsa is not None:
            found, stamp = token_problems(zf, tsa)
            problems += found
    return problems, stamp


def token_problems(zf: zipfile.ZipFile, tsa: list[Any]) -> tuple[list[str], str | None]:
    """checkpoint.tsr against checkpoint.txt and the TSA certificates the auditor trusts: the
    problems, and the trusted time it proves."""
    if "checkpoint.tsr" not in zf.namelist():
        return ["the pack has no trusted time: no checkpoint.tsr (was a TSA configured when it was written?)"], None
    try:
        stamp = timestamps.verify(zf.read("checkpoint.tsr"), zf.read("checkpoint.txt"), tsa)
    except timestamps.TimestampError as exc:
        return [f"checkpoint.tsr: {exc}"], None
    return [], stamp.describe()


def member_problems(names: list[str], sums: bytes) -> list[str]:
    """Members SHA256SUMS does not list (only it and pack.sig may be unlisted), and names stored
    twice (tools disagree on which copy they show)."""
    listed = {line.partition("  ")[2] for line in sums.decode("utf-8").splitlines()}
    twice = sorted(name for name, count in Counter(names).items() if count > 1)
    extra = sorted(set(names) - listed - {"SHA256SUMS", "pack.sig"})
    return [f"{name} is stored twice in the pack" for name in twice] + \
        [f"{name} is in the pack but not in SHA256SUMS" for name in extra]


def seal_problems(zf: zipfile.ZipFile, *, name: str, public: bytes, manifest: dict[str, Any],
                  leaves: list[bytes]) -> list[tuple[str, int | None]]:
    """A sealed pack's seal against the key and the chain's leaves: pack.sig over SHA256SUMS,
    checkpoint.txt as the chain's Merkle root, the manifest's inclusion proofs against it; as
    (problem, entry) pairs."""
    try:
        sealed = notes.open_note(zf.read("pack.sig").decode("utf-8"), name=name, public=public)
        made = notes.parse_checkpoint(notes.open_note(zf.read("checkpoint.txt").decode("utf-8"),
                                                      name=name, public=public))
    except notes.NoteError as exc:
        return [(f"the pack's seal: {exc}", None)]
    problems: list[tuple[str, int | None]] = []
    if sealed != seal_text(str(manifest.get("org")), int(manifest.get("period") or 0), zf.read("SHA256SUMS")):
        problems.append(("pack.sig does not seal this pack's SHA256SUMS: a member was changed after it was "
                         "sealed", None))
    if made.origin.rpartition("/")[2] != manifest.get("org") or made.size != len(leaves) \
            or made.root != merkle.root(leaves):
        return [*problems, (f"checkpoint.txt ({made.origin}, {made.size} entries) is not the chain in "
                            "ledger.jsonl", None)]
    for seq, proof in sorted((manifest.get("proofs") or {}).items(), key=lambda kv: int(kv[0])):
        index = int(seq) - 1
        if not (0 <= index < len(leaves) and merkle.verify_inclusion(
                leaves[index], index, made.size, [bytes.fromhex(p) for p in proof], made.root)):
            problems.append((f"the inclusion proof of entry {seq} does not verify against checkpoint.txt", int(seq)))
    return problems


def seal_text(org: str, period: int, sums: bytes) -> str:
    """The signed statement binding a pack: its SHA256SUMS, which lists every other member."""
    return f"esgtrack evidence pack\n{org} {period}\nSHA256SUMS {hashlib.sha256(sums).hexdigest()}\n"


def _chain_problems(chain: list[dict[str, Any]]) -> list[str]:
    prev = chainhash.GENESIS
    for number, entry in enumerate(chain, start=1):
        payload = json.loads(entry["payload"])
        if entry["seq"] != number or entry["prev_hash"] != prev \
                or chainhash.canonical_json(payload) != entry["payload"] \
                or chainhash.entry_hash(prev, entry["payload"]) != entry["hash"] \
                or any(payload.get(column) != entry[column] for column in chainhash.COLUMNS):
            return [f"ledger.jsonl: entry {number} does not follow from the one before: edited"]
        prev = entry["hash"]
    return []


def _manifest_problems(manifest: dict[str, Any], chain: list[dict[str, Any]], members: set[str]) -> list[str]:
    period = manifest.get("period")
    mine = [e for e in chain if e["period"] == period]
    done = {(e["seq"], e["hash"]) for e in mine if e["event"] == "completed"}
    listed = {(c["seq"], c["hash"]) for c in manifest.get("completions", [])}
    problems = [f"the manifest's completions are not the period's completion entries ({sorted(listed ^ done)})"
                ] if listed != done else []
    files = {(e["seq"], f["sha256"]) for e in mine
             for f in (json.loads(e["payload"]).get("data", {}).get("evidence") or {}).get("files") or []}
    evidence = {(item["seq"], item["sha256"]): item["path"] for item in manifest.get("evidence", [])}
    if set(evidence) != files:
        problems.append("the manifest's evidence is not the evidence the period's entries record")
    problems += [f"{path} is missing from the pack" for path in evidence.values() if path not in members]
    if chain and (manifest.get("chain") or {}).get("head") != chain[-1]["hash"]:
        problems.append("the manifest's chain head is not the last entry of ledger.jsonl")
    return problems


def script() -> str:
    """verify_pack.py: the embedded modules, then this file."""
    here = Path(__file__).resolve()
    core = here.parents[1] / "core"
    sources = {name: (core / f"{name}.py").read_text(encoding="utf-8") for name in EMBEDS}
    loader = (
        "import sys as _sys, types as _types\n"
        f"SOURCES = {sources!r}\n"
        "EMBEDDED = {}\n"
        "for _name, _source in SOURCES.items():\n"
        "    _module = _types.ModuleType('pack_' + _name)\n"
        "    _sys.modules[_module.__name__] = _module  # dataclasses look their module up\n"
        "    exec(compile(_source, _name + '.py', 'exec'), _module.__dict__)\n"
        "    EMBEDDED[_name] = _module\n"
    )
    future = "from __future__ import annotations\n"
    body = here.read_text(encoding="utf-8").replace(future, "", 1)  # it must open the file
    return f"#!/usr/bin/env python3\n{future}{loader}\n{body}"


def main(argv: list[str]) -> int:
    options = dict(zip(argv[1::2], argv[2::2], strict=False))
    if len(argv) not in (3, 5) or "--key" not in options or set(options) - {"--key", "--tsa-cert"}:
        print("usage: python3 verify_pack.py PACK.zip --key VERIFIER-KEY [--tsa-cert TSA.pem]", file=sys.stderr)
        return 2
    stamp = None
    try:
        tsa = timestamps.load_certificates(Path(options["--tsa-cert"]).read_bytes()) \
            if "--tsa-cert" in options else None
        problems, stamp = check(Path(argv[0]), options["--key"], tsa)
    except (OSError, zipfile.BadZipFile, notes.NoteError, timestamps.TimestampError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, KeyError, TypeError) as exc:
        problems = [f"the pack is malformed: {type(exc).__name__}: {exc}"]
    for problem in problems:
        print(f"FAILED: {problem}")
    if not problems:
        print(f"OK: {argv[0]} is sealed by the key, and its chain, checkpoint, proofs and manifest hold")
        if stamp:
            print(f"OK: trusted time {stamp}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
