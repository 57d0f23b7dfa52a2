"""What auditors run: verify the chains, read the log, gather an evidence pack's contents.
Each use case reads in one session_scope (models/store/audit.py holds the reads)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from config.settings import Settings
from flows.usecases import checkpoints
from models.core import merkle
from models.core.errors import CheckFailed, InputError
from models.core.ledger import VerifyResult, iso_utc
from models.evidence.pack import Seal, build_manifest, with_proofs, write_pack
from models.store import audit
from models.store import ledger as ledger_store
from models.store.db import session_scope
from models.store.measures import check_measure_named, org_codes


def verify(engine: Engine, *, org: str | None, store_root: Path, anchor: str | None = None) -> list[VerifyResult]:
    """Every organisation's chain (or the one named), also those without entries: their
    occurrences' states are checked against the ledger too."""
    with session_scope(engine) as session:
        return [audit.verify_org(session, org=code, store_root=store_root, anchor=anchor)
                for code in org_codes(session, org=org)]


def log(engine: Engine, *, where: ledger_store.LogFilter) -> list[dict[str, Any]]:
    """The completion log's rows, filtered (an organisation and a measure named must exist)."""
    with session_scope(engine) as session:
        if where.org:
            org_codes(session, org=where.org)
        check_measure_named(session, org=where.org, code=where.measure)
        return audit.log_rows(session, where=where)


def entry(engine: Engine, *, org: str, seq: int) -> dict[str, Any] | None:
    """One entry of the organisation's chain as a log row, with its payload text (the hashed
    canonical JSON); None: the organisation has no entry of this seq."""
    with session_scope(engine) as session:
        found = ledger_store.entry_at(session, org=org, seq=seq)
        return {**audit.log_row(found), "payload": found.payload} if found else None


def write_evidence_pack(engine: Engine, settings: Settings, *, org: str, period: int, out: Path,
                        now: dt.datetime, generated_by: str
                        ) -> tuple[dict[str, Any], VerifyResult, checkpoints.Signed | None]:
    """The evidence pack of an organisation's year, from a chain that verifies; sealed with this
    installation's key when it has one (a signed checkpoint of the chain with its trusted time
    when a TSA is configured, inclusion proofs, and pack.sig over SHA256SUMS). Returns the
    manifest, the verified chain, and the pack's signed checkpoint (None: not sealed)."""
    verified, contents = pack_contents(engine, org=org, period=period, store_root=settings.evidence_dir)
    if not contents["occurrences"]:
        raise InputError(f"{org} has no occurrences in {period}", field="--period", value=period)
    head = {"head": verified.head, "seq": verified.head_seq, "entries": verified.count}
    manifest = build_manifest(contents, head=head, generated_at=iso_utc(now), generated_by=generated_by)
    seal, signed = None, None
    if checkpoints.has_key(settings):
        leaves = merkle.ledger_leaves(e.hash for e in contents["chain"])
        signed = checkpoints.stamped(settings, *checkpoints.sign_tree(settings, org=org, leaves=leaves, now=now))
        manifest = with_proofs(manifest, contents["chain"], signed.made)
        seal = Seal(signed.note, checkpoints.verifier(settings), checkpoints.signer(settings), signed.token)
    write_pack(out, manifest, chain=contents["chain"], store_root=settings.evidence_dir, seal=seal)
    return manifest, verified, signed


def pack_contents(engine: Engine, *, org: str, period: int, store_root: Path
                  ) -> tuple[VerifyResult, dict[str, Any]]:
    """The organisation's verified chain and what its evidence pack for the period holds,
    read under the chain's lock so that the chain packed is the one verified. A chain that
    does not verify stops here: no pack is written from it."""
    with session_scope(engine) as session:
        org_codes(session, org=org)
        ledger_store.lock(session, org=org)
        verified = audit.verify_org(session, org=org, store_root=store_root)
        if not verified.ok:
            raise CheckFailed(f"the ledger of {org} does not verify (entry {verified.first_bad}: "
                              f"{verified.reason}); no pack written")
        return verified, audit.pack_contents(session, org=org, period=period)
