"""Domain errors: each says what went wrong and where (file, line, field, value)."""

from __future__ import annotations


class EsgtrackError(Exception):
    """Base of every error esgtrack raises on purpose."""

    exit_code = 1


class InputError(EsgtrackError):
    """Bad input from a user: a file, an option or a value. The CLI exits 2."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        field: str | None = None,
        value: object = None,
    ) -> None:
        self.message = message
        self.file = file
        self.line = line
        self.field = field
        self.value = value
        super().__init__(self.describe())

    def describe(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.line) if p is not None)
        parts = [where] if where else []
        if self.field:
            parts.append(f"field {self.field!r}")
        head = ", ".join(parts)
        text = f"{head}: {self.message}" if head else self.message
        if self.value is not None:
            text += f" (got {self.value!r})"
        return text


class NotFound(InputError):
    """A measure, occurrence, person or file the user named does not exist."""


class CheckFailed(EsgtrackError):
    """A check found a problem (e.g. the ledger was tampered with). The CLI exits 1."""

    exit_code = 1
