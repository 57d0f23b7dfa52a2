"""Reading an evidence file from the store on an organisation's behalf: only a file that one
of its ledger entries or portal submissions names, and only while it is intact."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine

from models.evidence import store as evidence_store
from models.store import evidence_refs
from models.store.db import session_scope

SHA256 = re.compile(r"[0-9a-f]{64}")  # the store's names: lowercase hex, nothing else (no traversal)


@dataclass(frozen=True)
class EvidenceFile:
    """A file an organisation may read: its recorded name and size, where the store keeps it,
    and why it cannot be served (None: it is there, unchanged)."""

    sha256: str
    name: str
    size: int
    path: Path
    problem: str | None


def evidence_file(engine: Engine, *, org: str, sha256: str, store_root: Path) -> EvidenceFile | None:
    """The evidence file of this hash, if the organisation's ledger or submissions name it;
    None: not a SHA-256 in the store's form, or not the organisation's."""
    if not SHA256.fullmatch(sha256):
        return None
    with session_scope(engine) as session:
        record = evidence_refs.file_record(session, org=org, sha256=sha256)
    if record is None:
        return None
    return EvidenceFile(sha256, record["name"], record["size"], evidence_store.path_for(store_root, sha256),
                        evidence_store.problem(store_root, record))
