"""Which evidence files an organisation may read: those its ledger entries or its portal
submissions name (payload → evidence → files). The portal serves no other file."""

from __future__ import annotations

import json
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models.store.tables import LedgerEntry, Submission


def file_record(session: Session, *, org: str, sha256: str) -> dict[str, Any] | None:
    """The first record ({sha256, name, size}) of this file among the organisation's ledger
    entries (by seq), then its submissions (by id); None: none of them names it. The text
    search only narrows the rows: the file must be in an evidence block's files list."""
    entries = (select(LedgerEntry.payload)
               .where(LedgerEntry.org == org, col(LedgerEntry.payload).contains(sha256))
               .order_by(col(LedgerEntry.seq)))
    for payload in session.exec(entries):
        found = _named(json.loads(payload).get("data"), sha256)
        if found:
            return found
    submissions = (select(Submission.payload)
                   .where(Submission.org == org, sa.cast(col(Submission.payload), sa.Text).contains(sha256))
                   .order_by(col(Submission.id)))
    for data in session.exec(submissions):
        found = _named(data, sha256)
        if found:
            return found
    return None


def _named(data: object, sha256: str) -> dict[str, Any] | None:
    """The file of this hash in a payload's evidence files (a ledger entry's data, a
    submission's payload)."""
    evidence = data.get("evidence") if isinstance(data, dict) else None
    files = evidence.get("files") if isinstance(evidence, dict) else None
    for file in files or []:
        if isinstance(file, dict) and file.get("sha256") == sha256:
            return {"sha256": sha256, "name": str(file.get("name") or sha256), "size": int(file.get("size") or 0)}
    return None
