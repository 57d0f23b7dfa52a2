"""The content-addressed evidence store: files kept under ROOT/ab/abcdef… by their SHA-256.

Identical files are stored once. A file is copied (and hashed while copying) before the
ledger entry that names it is committed: a crash leaves at most an unreferenced file, never an
entry without its file.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from models.core.errors import InputError

CHUNK = 1 << 20


@dataclass(frozen=True)
class StoredFile:
    sha256: str
    name: str
    size: int

    def as_dict(self) -> dict:
        return {"sha256": self.sha256, "name": self.name, "size": self.size}


def path_for(root: Path, sha256: str) -> Path:
    return root / sha256[:2] / sha256


def check_readable(paths: list[Path], option: str = "--file") -> None:
    """Every path names a readable regular file; else an InputError naming it."""
    for path in paths:
        if not path.is_file():
            raise InputError("no such file", field=option, value=str(path))
        if not os.access(path, os.R_OK):
            raise InputError("the file cannot be read", field=option, value=str(path))


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def store(root: Path, source: Path) -> StoredFile:
    """Copy a file into the store (atomically: a temporary file renamed into place)."""
    root.mkdir(parents=True, exist_ok=True)
    digest, size = hashlib.sha256(), 0
    handle, temp = tempfile.mkstemp(dir=root, prefix=".incoming-")
    try:
        with os.fdopen(handle, "wb") as out, source.open("rb") as src:
            while chunk := src.read(CHUNK):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        target = path_for(root, digest.hexdigest())
        target.parent.mkdir(exist_ok=True)
        if target.exists() and sha256_of(target) == digest.hexdigest():
            os.unlink(temp)
        else:
            os.chmod(temp, 0o444)  # a guard against accidental edits, not against an attacker
            os.replace(temp, target)
    except BaseException:
        if os.path.exists(temp):
            os.unlink(temp)
        raise
    return StoredFile(digest.hexdigest(), source.name, size)


def problem(root: Path, file: dict) -> str | None:
    """Why a stored file no longer matches its ledger record (None: it does)."""
    path = path_for(root, file["sha256"])
    if not path.is_file():
        return f"evidence file {file['name']!r} ({file['sha256'][:12]}…) is missing from the store"
    if path.stat().st_size != file["size"] or sha256_of(path) != file["sha256"]:
        return f"evidence file {file['name']!r} ({file['sha256'][:12]}…) was changed"
    return None
