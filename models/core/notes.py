"""Signed checkpoints of a ledger: C2SP signed notes (Ed25519) whose text is a C2SP
tlog-checkpoint — origin, tree size, root hash — with one extension line, the time it was made.

    esgtrack.kz/ledger/KT
    7
    base64(root hash)
    time 2026-02-16T04:00:00.000000+00:00

    — esgtrack.kz/ledger base64(key ID || Ed25519 signature of the text above)

A verifier key (what an auditor keeps) is `name+hex(key ID)+base64(0x01 || public key)`, the
form Go's golang.org/x/mod/sumdb/note and the transparency-log tools read.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = b"\x01"
DASH = "\u2014"  # the signature lines' em dash


class NoteError(ValueError):
    """A note, checkpoint or key that cannot be read or does not verify."""


def key_id(name: str, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public).digest()[:4]


def raw_public(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def verifier_key(name: str, public: bytes) -> str:
    return f"{name}+{key_id(name, public).hex()}+{base64.b64encode(ED25519 + public).decode()}"


def parse_verifier_key(text: str) -> tuple[str, bytes]:
    """(key name, 32-byte public key) of a verifier key; NoteError when it is not one."""
    name, _, rest = text.strip().partition("+")
    hint, _, encoded = rest.partition("+")
    try:
        key = base64.b64decode(encoded, validate=True)
        hint_bytes = bytes.fromhex(hint)
    except (binascii.Error, ValueError):
        raise NoteError("not a verifier key (name+keyid+base64 key)") from None
    if not name or len(key) != 33 or key[:1] != ED25519:
        raise NoteError("not an Ed25519 verifier key (name+keyid+base64 key)")
    if key_id(name, key[1:]) != hint_bytes:
        raise NoteError("the verifier key's ID does not match its name and key")
    return name, key[1:]


def sign(text: str, *, name: str, key: Ed25519PrivateKey) -> str:
    """The note: text (ending in a newline), a blank line, one signature line."""
    if not text.endswith("\n") or "\n\n" in text:
        raise NoteError("a note's text ends in a newline and has no blank line")
    signature = key_id(name, raw_public(key.public_key())) + key.sign(text.encode())
    return f"{text}\n{DASH} {name} {base64.b64encode(signature).decode()}\n"


def open_note(note: str, *, name: str, public: bytes) -> str:
    """The text of a note signed by this key; NoteError when no signature of it verifies."""
    text, sep, signatures = note.rpartition("\n\n")
    if not sep or not signatures.endswith("\n"):
        raise NoteError("not a signed note (text, a blank line, signature lines)")
    text += "\n"
    wanted = key_id(name, public)
    for line in signatures.splitlines():
        dash, _, rest = line.partition(" ")
        signer, _, encoded = rest.partition(" ")
        if dash != DASH or signer != name:
            continue  # another key's signature: not ours to judge
        try:
            raw = base64.b64decode(encoded, validate=True)
        except binascii.Error:
            raise NoteError("a signature line is not base64") from None
        if raw[:4] != wanted:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(raw[4:], text.encode())
        except InvalidSignature:
            raise NoteError(f"the signature of {name} does not verify: the checkpoint was changed") from None
        return text
    raise NoteError(f"the note carries no signature of {name} (key ID {wanted.hex()})")


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    time: str  # iso_utc

    def text(self) -> str:
        return f"{self.origin}\n{self.size}\n{base64.b64encode(self.root).decode()}\ntime {self.time}\n"


def parse_checkpoint(text: str) -> Checkpoint:
    lines = text.rstrip("\n").split("\n")
    try:
        origin, size, encoded = lines[0], int(lines[1]), lines[2]
        head = base64.b64decode(encoded, validate=True)
    except (IndexError, ValueError, binascii.Error):
        raise NoteError("not a checkpoint (origin, tree size, root hash)") from None
    if size < 0 or len(head) != 32 or str(size) != lines[1]:
        raise NoteError("not a checkpoint (origin, tree size, root hash)")
    time = next((line.removeprefix("time ") for line in lines[3:] if line.startswith("time ")), "")
    return Checkpoint(origin, size, head, time)
