"""How a ledger entry is hashed (standard library only: the evidence pack's standalone verifier
embeds this module as it is).

Entry n's hash is sha256((prev_hash + "\\n" + canonical_json(payload)).encode("utf-8")), with
prev_hash the hash of entry n-1 (GENESIS, 64 zeros, for entry 1); the payload holds every column
of the entry and the event's data.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

GENESIS = "0" * 64
ALGORITHM = 'sha256(prev_hash + "\\n" + canonical_json(payload)), UTF-8; genesis prev_hash = 64 zeros'
COLUMNS = ("seq", "org", "event", "actor", "at", "measure", "period", "occurrence_id")


def canonical_json(payload: dict[str, Any]) -> str:
    """The one serialisation that is hashed (sorted keys, no spaces, UTF-8 text kept)."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(prev_hash: str, canonical: str) -> str:
    return hashlib.sha256((prev_hash + "\n" + canonical).encode("utf-8")).hexdigest()
