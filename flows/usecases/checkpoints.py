"""Signed checkpoints of each organisation's ledger (models/core/merkle.py, models/core/notes.py):
the signing key, writing a checkpoint, its RFC 3161 trusted time (models/core/timestamps.py)
when a TSA is configured, an entry's inclusion proof, and proving that the ledger today
extends a checkpoint handed out earlier."""

from __future__ import annotations

import datetime as dt
import http.client
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from sqlalchemy.engine import Engine

from config.settings import Settings
from models.core import merkle, notes, timestamps
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


@dataclass(frozen=True)
class Signed:
    """A signed checkpoint, where it was saved, and its trusted time: the TSA's response (DER)
    and what it proves, or why there is none (best-effort mode)."""

    made: notes.Checkpoint
    note: str
    path: Path | None = None
    token: bytes | None = None
    stamp: timestamps.Stamp | None = None
    warning: str | None = None


def checkpoint(engine: Engine, settings: Settings, *, org: str, now: dt.datetime,
               tsa: TsaRun | None = None) -> Signed:
    """The organisation's ledger as a signed checkpoint, saved under the data directory
    (checkpoints/ORG/SIZE.checkpoint, its timestamp token as SIZE.tsr). Only a ledger that
    verifies and extends the newest saved checkpoint is signed: CheckFailed otherwise, and when
    trusted time is required but the TSA gives none (nothing is saved then)."""
    leaves = _leaves(engine, org)
    size = last_size(settings, org)
    if size is not None:  # the ledger must extend the newest checkpoint saved
        try:
            last = _opened((checkpoint_dir(settings, org) / f"{size}.checkpoint").read_text(encoding="utf-8"),
                           verifier(settings))[1]
        except notes.NoteError as exc:
            raise CheckFailed(f"the newest saved checkpoint of {org}: {exc}") from None
        _extends(org, last, leaves)
    signed = stamped(settings, *sign_tree(settings, org=org, leaves=leaves, now=now), tsa=tsa)
    path = checkpoint_dir(settings, org) / f"{signed.made.size}.checkpoint"
    path.parent.mkdir(parents=True, exist_ok=True)
    if signed.token is not None:
        _write_whole(token_path(path), signed.token)
    else:
        token_path(path).unlink(missing_ok=True)  # never an older token beside a newer note
    _write_whole(path, signed.note.encode("utf-8"))
    return Signed(signed.made, signed.note, path, signed.token, signed.stamp, signed.warning)


def _write_whole(path: Path, data: bytes) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(data)
    partial.replace(path)  # whole or not at all


def token_path(checkpoint_file: Path) -> Path:
    """Where a checkpoint's timestamp token is kept: beside it, with the suffix .tsr."""
    return checkpoint_file.with_suffix(".tsr")


# --- trusted time (RFC 3161) ----------------------------------------------------------------


def trusted_tsa(settings: Settings, cert: Path | None = None) -> list[x509.Certificate]:
    """The TSA certificates tokens are checked with: `cert`, else ESGTRACK_TSA_CERT."""
    path = cert or settings.tsa_cert
    field = "--tsa-cert" if cert else "ESGTRACK_TSA_CERT"
    if path is None:
        raise InputError("trusted time needs the TSA's certificate (or its CA's) to check tokens with",
                         field=field)
    try:
        return timestamps.load_certificates(path.read_bytes())
    except (OSError, timestamps.TimestampError) as exc:
        raise InputError(f"cannot read the TSA certificate: {exc}", field=field, value=str(path)) from None


class TsaUnavailable(Exception):
    """The TSA could not be reached, refused, or answered with a token that does not verify."""


@dataclass
class TsaRun:
    """One run's dealings with the TSA (the daily flow checkpoints many ledgers): once it has
    failed, the run's later checkpoints do not wait for it again."""

    failure: str | None = None


def stamped(settings: Settings, made: notes.Checkpoint, note: str, *, tsa: TsaRun | None = None) -> Signed:
    """The signed checkpoint with its RFC 3161 token, as ESGTRACK_TSA_MODE asks: off, none;
    best-effort, a TSA that fails gives a warning instead; required, CheckFailed."""
    mode = settings.resolved_tsa_mode
    if mode == "off":
        return Signed(made, note)
    try:
        url, trusted = tsa_url(settings, mode), trusted_tsa(settings)
    except InputError as exc:  # misconfigured: required refuses to sign, best-effort says why it has no time
        if mode == "required":
            raise
        return Signed(made, note, warning=f"the checkpoint of {made.origin} ({made.size} entries) has no "
                                          f"trusted time: {exc}")
    try:
        if tsa is not None and tsa.failure:
            raise TsaUnavailable(f"{tsa.failure} (earlier in this run; not asked again)")
        token, stamp = fetch_token(url, note.encode("utf-8"), trusted, timeout=settings.tsa_timeout)
    except TsaUnavailable as exc:
        if tsa is not None and not tsa.failure:
            tsa.failure = str(exc)
        if mode == "required":
            raise CheckFailed(f"no trusted time for the checkpoint of {made.origin} ({exc}); trusted time is "
                              "required, so nothing was signed") from None
        return Signed(made, note, warning=f"the checkpoint of {made.origin} ({made.size} entries) has no "
                                          f"trusted time: {exc}")
    return Signed(made, note, token=token, stamp=stamp)


def tsa_url(settings: Settings, mode: str) -> str:
    """ESGTRACK_TSA_URL, checked: an http(s) URL with a host (InputError otherwise)."""
    url = settings.tsa_url
    if not url:
        raise InputError(f"trusted time is {mode} but no TSA is set", field="ESGTRACK_TSA_URL")
    try:
        parts = urllib.parse.urlsplit(url)
        parts.port  # noqa: B018 - a port that is not a number raises here
    except ValueError as exc:
        raise InputError(f"not a usable URL ({exc})", field="ESGTRACK_TSA_URL", value=_shown(url)) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InputError("expected an http:// or https:// URL with a host", field="ESGTRACK_TSA_URL",
                         value=_shown(url))
    return url


def fetch_token(url: str, message: bytes, trusted: list[x509.Certificate], *, timeout: float
                ) -> tuple[bytes, timestamps.Stamp]:
    """Ask the TSA to timestamp `message`; its response (DER), checked with the trusted
    certificates and against the request's nonce before it is kept."""
    shown = _shown(url)
    query, nonce = timestamps.request(message)
    try:
        ask = urllib.request.Request(url, data=query, method="POST",
                                     headers={"Content-Type": timestamps.MEDIA_QUERY})
        with urllib.request.urlopen(ask, timeout=timeout) as answer:
            response = answer.read()
    except urllib.error.HTTPError as exc:
        raise TsaUnavailable(f"the TSA at {shown} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise TsaUnavailable(f"the TSA at {shown} could not be reached ({getattr(exc, 'reason', exc)})") from None
    except (http.client.HTTPException, ValueError) as exc:  # a connection cut short, not HTTP at all
        raise TsaUnavailable(f"the TSA at {shown} gave no usable answer ({type(exc).__name__}: {exc})") from None
    try:
        return response, timestamps.verify(response, message, trusted, nonce=nonce)
    except timestamps.TimestampError as exc:
        raise TsaUnavailable(f"the TSA at {shown} answered with no valid token: {exc}") from None


def _shown(url: str) -> str:
    """A TSA URL for messages and logs: without credentials or query (they may hold secrets)."""
    parts = urllib.parse.urlsplit(url)
    host = parts.netloc.rpartition("@")[2]  # the port as written, even one that is not a number
    return f"{parts.scheme}://{host}{parts.path}" + ("?…" if parts.query else "")


def check_token(token: bytes, note: str, trusted: list[x509.Certificate]) -> timestamps.Stamp:
    """What a checkpoint's token proves; CheckFailed when it does not verify."""
    try:
        return timestamps.verify(token, note.encode("utf-8"), trusted)
    except timestamps.TimestampError as exc:
        raise CheckFailed(f"the checkpoint's timestamp token: {exc}") from None


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
    daily flow's step); returns the organisations checkpointed, and the warnings: why the others
    were not (a ledger that does not verify, or no longer extends its last checkpoint, is never
    signed; trusted time required and the TSA down), and checkpoints left without trusted time."""
    with session_scope(engine) as session:
        heads = ledger_store.head_seqs(session, orgs=orgs)
    grown = [org for org in orgs if heads.get(org, 0) and heads[org] != last_size(settings, org)]
    signed, refused = [], []
    tsa = TsaRun()
    for org in grown:
        try:
            made = checkpoint(engine, settings, org=org, now=now, tsa=tsa)
            signed.append(org)
            if made.warning:
                refused.append(made.warning)
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
