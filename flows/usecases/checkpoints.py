"""Signed checkpoints of each organisation's ledger (models/core/merkle.py, models/core/notes.py):
the signing key, writing a checkpoint, an entry's inclusion proof, and proving that the ledger
today extends a checkpoint handed out earlier."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from sqlalchemy.engine import Engine

from config.settings import Settings
from models.core import merkle, notes
from models.core.errors import CheckFailed, InputError, NotFound
from models.core.ledger import iso_utc, verify_chain
from models.store import ledger as ledger_store
from models.store.db import session_scope
from models.store.measures import org_codes

KEY_NAME = "esgtrack/ledger"


@dataclass(frozen=True)
class Keys:
    private: Path
    public: Path


def key_files(settings: Settings) -> Keys:
    folder = settings.home / "keys"
    return Keys(folder / "ledger-ed25519.pem", folder / "ledger.pub")


def init_keys(settings: Settings, *, name: str = KEY_NAME) -> tuple[Keys, str]:
    """Create the Ed25519 signing key (readable by its owner only) and its verifier key, the
    line an auditor keeps. An existing key is never replaced: checkpoints signed with it would
    no longer verify against the key handed out."""
    files = key_files(settings)
    if files.private.exists():
        raise InputError(f"a signing key exists already: {files.private} (its verifier key: "
                         "`esgtrack keys show`)", field="keys init")
    if not name or any(c.isspace() or c == "+" for c in name):
        raise InputError("a key name has no spaces and no '+'", field="--name", value=name)
    files.private.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    descriptor = os.open(files.private, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(pem)
    verifier = notes.verifier_key(name, notes.raw_public(key.public_key()))
    files.public.write_text(verifier + "\n", encoding="utf-8")
    return files, verifier


def verifier(settings: Settings) -> str:
    """The verifier key of this installation's signing key."""
    files = key_files(settings)
    if not files.public.exists():
        raise InputError("no signing key yet: run `esgtrack keys init`", field="ESGTRACK_HOME",
                         value=str(settings.home))
    return files.public.read_text(encoding="utf-8").strip()


def has_key(settings: Settings) -> bool:
    return key_files(settings).private.exists()


def _signer(settings: Settings) -> tuple[str, Ed25519PrivateKey]:
    name, _public = notes.parse_verifier_key(verifier(settings))
    key = load_pem_private_key(key_files(settings).private.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError("the signing key is not an Ed25519 key", field="ESGTRACK_HOME",
                         value=str(key_files(settings).private))
    return name, key


def origin(name: str, org: str) -> str:
    return f"{name}/{org}"


def _leaves(engine: Engine, org: str) -> list[bytes]:
    """The organisation's ledger as tree leaves, read under the chain's lock, once its hash
    chain is re-computed: a stored hash that no longer matches its entry is never a leaf."""
    with session_scope(engine) as session:
        org_codes(session, org=org)
        ledger_store.lock(session, org=org)
        entries = list(ledger_store.chain(session, org=org))
    verified = verify_chain(entries, org=org)
    if not verified.ok:
        raise CheckFailed(f"the ledger of {org} does not verify (entry {verified.first_bad}: {verified.reason})")
    return merkle.ledger_leaves(e.hash for e in entries)


def checkpoint(engine: Engine, settings: Settings, *, org: str, now: dt.datetime) -> tuple[notes.Checkpoint, str]:
    """The organisation's ledger as a signed checkpoint, saved under the data directory
    (checkpoints/ORG/SIZE.checkpoint); returns it and the note. Only a ledger that verifies and
    extends the newest saved checkpoint is signed: CheckFailed otherwise."""
    leaves = _leaves(engine, org)
    size = last_size(settings, org)
    if size is not None:  # the ledger must extend the newest checkpoint saved
        try:
            last = _opened((checkpoint_dir(settings, org) / f"{size}.checkpoint").read_text(encoding="utf-8"),
                           verifier(settings))[1]
        except notes.NoteError as exc:
            raise CheckFailed(f"the newest saved checkpoint of {org}: {exc}") from None
        _extends(org, last, leaves)
    made, note = sign_tree(settings, org=org, leaves=leaves, now=now)
    path = checkpoint_dir(settings, org) / f"{made.size}.checkpoint"
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.write_text(note, encoding="utf-8")
    partial.replace(path)  # whole or not at all
    return made, note


def sign_tree(settings: Settings, *, org: str, leaves: list[bytes], now: dt.datetime
              ) -> tuple[notes.Checkpoint, str]:
    """A signed checkpoint of the tree of these leaves (an organisation's ledger)."""
    name, key = _signer(settings)
    made = notes.Checkpoint(origin(name, org), len(leaves), merkle.root(leaves), iso_utc(now))
    return made, notes.sign(made.text(), name=name, key=key)


def signer(settings: Settings) -> Callable[[str], str]:
    """A function signing a note's text with this installation's key."""
    name, key = _signer(settings)
    return lambda text: notes.sign(text, name=name, key=key)


def checkpoint_dir(settings: Settings, org: str) -> Path:
    return settings.home / "checkpoints" / org


def last_size(settings: Settings, org: str) -> int | None:
    """The tree size of the organisation's newest saved checkpoint."""
    sizes = [int(p.stem) for p in checkpoint_dir(settings, org).glob("*.checkpoint") if p.stem.isdigit()]
    return max(sizes, default=None)


def checkpoint_grown(engine: Engine, settings: Settings, *, orgs: list[str], now: dt.datetime
                     ) -> tuple[list[str], list[str]]:
    """A checkpoint for each of these organisations whose ledger changed since its last one (the
    daily flow's step); returns the organisations checkpointed, and why the others were not
    (a ledger that does not verify, or no longer extends its last checkpoint, is never signed)."""
    with session_scope(engine) as session:
        heads = ledger_store.head_seqs(session, orgs=orgs)
    grown = [org for org in orgs if heads.get(org, 0) and heads[org] != last_size(settings, org)]
    signed, refused = [], []
    for org in grown:
        try:
            checkpoint(engine, settings, org=org, now=now)
            signed.append(org)
        except CheckFailed as exc:
            refused.append(f"no checkpoint signed for {org}: {exc}")
    return signed, refused



def prove(engine: Engine, *, org: str, seq: int, size: int | None = None) -> dict[str, Any]:
    """Entry `seq`'s inclusion proof in the tree of the first `size` entries (default: all),
    checked before it is returned."""
    leaves = _leaves(engine, org)
    size = len(leaves) if size is None else size
    if not 1 <= size <= len(leaves):
        raise InputError(f"the ledger of {org} has {len(leaves)} entries", field="--size", value=size)
    if not 1 <= seq <= size:
        raise NotFound(f"no entry {seq} in the first {size} entries of {org}'s ledger", field="ENTRY", value=seq)
    proof = merkle.inclusion_proof(seq - 1, leaves[:size])
    head = merkle.root(leaves[:size])
    if not merkle.verify_inclusion(leaves[seq - 1], seq - 1, size, proof, head):
        raise CheckFailed(f"the inclusion proof of entry {seq} does not verify")  # never: a bug
    return {"org": org, "seq": seq, "leaf_index": seq - 1, "tree_size": size,
            "leaf_hash": leaves[seq - 1].hex(), "root_hash": head.hex(), "proof": [p.hex() for p in proof]}


def check(engine: Engine, *, note: str, verifier_key: str) -> dict[str, Any]:
    """That a checkpoint is signed by this key and that the organisation's ledger today is a
    consistent extension of it: nothing it covered was changed, removed or reordered.
    CheckFailed names what is wrong."""
    org, made = _opened(note, verifier_key)
    leaves = _leaves(engine, org)
    head, proof = _extends(org, made, leaves)
    return {"org": org, "checkpoint_size": made.size, "checkpoint_time": made.time,
            "checkpoint_root": made.root.hex(), "size": len(leaves), "root_hash": head.hex(),
            "consistency_proof": [p.hex() for p in proof]}


def _opened(note: str, verifier_key: str) -> tuple[str, notes.Checkpoint]:
    """The organisation and checkpoint of a note signed by this key (NoteError otherwise)."""
    name, public = notes.parse_verifier_key(verifier_key)
    made = notes.parse_checkpoint(notes.open_note(note, name=name, public=public))
    prefix = f"{name}/"
    if not made.origin.startswith(prefix):
        raise CheckFailed(f"the checkpoint's origin {made.origin!r} is not of the key {name!r}")
    return made.origin.removeprefix(prefix), made


def _extends(org: str, made: notes.Checkpoint, leaves: list[bytes]) -> tuple[bytes, list[bytes]]:
    """The tree head of these leaves and its consistency proof from the checkpoint; CheckFailed
    when the ledger does not extend it."""
    if len(leaves) < made.size:
        raise CheckFailed(f"the ledger of {org} has {len(leaves)} entries, the checkpoint of {made.time} "
                          f"covers {made.size}: entries after {len(leaves)} were removed")
    head = merkle.root(leaves)
    proof = merkle.consistency_proof(made.size, leaves)
    if not merkle.verify_consistency(made.size, len(leaves), made.root, head, proof):
        raise CheckFailed(f"the first {made.size} entries of {org}'s ledger no longer hash to the root "
                          f"of the checkpoint of {made.time}: the ledger was rewritten since")
    return head, proof
