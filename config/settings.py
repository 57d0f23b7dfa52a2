"""esgtrack's settings: one pydantic-settings class read from ESGTRACK_* variables."""

from __future__ import annotations

import os
import secrets
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from config import DEFAULT_POLICY, EXAMPLE_DIRECTORY


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ESGTRACK_", extra="ignore")

    home: Path = Field(
        default=Path.home() / ".esgtrack",
        description="Data directory: the SQLite database, the evidence store, the journal.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the database; default a SQLite file in the data directory. "
        "PostgreSQL: postgresql+psycopg://user@host:5432/esgtrack.",
    )
    directory: Path | None = Field(
        default=None,
        description="Directory YAML (people, roles, superiors); default the shipped example.",
    )
    policy: Path | None = Field(
        default=None,
        description="Policy YAML (reminder offsets, escalation levels); default the shipped policy.",
    )
    smtp_url: SecretStr | None = Field(
        default=None,
        description="apprise mailto:// or mailtos:// URL without to=, e.g. "
        "mailto://127.0.0.1:2525?from=esg@example.kz; unset: email goes to the journal.",
    )
    org: str = Field(
        default="KT",
        description="Organisation code used when a command is given no --org.",
    )
    notify_workers: int = Field(
        default=8, ge=1, le=64,
        description="Messages sent at once (bounded thread pool).",
    )
    notify_timeout: float = Field(
        default=20.0, gt=0,
        description="Seconds before a send counts as timed out (outcome unknown, not resent blindly).",
    )
    ca_file: Path | None = Field(
        default=None,
        description="PEM file of the CAs to trust for TLS while delivering (SMTP relay, Teams); "
        "default the system bundle. A small file also saves ~20-45 ms per SMTP connection.",
    )
    tsa_url: str | None = Field(
        default=None,
        description="RFC 3161 Time-Stamping Authority URL: each signed checkpoint gets a timestamp "
        "token (trusted time) from it, saved beside the checkpoint and put in sealed packs.",
    )
    tsa_mode: Literal["off", "best-effort", "required"] | None = Field(
        default=None,
        description="off; best-effort (a TSA that fails leaves the checkpoint without a token, with a "
        "warning); required (no token, no checkpoint or sealed pack). Default: best-effort when "
        "ESGTRACK_TSA_URL is set, else off.",
    )
    tsa_cert: Path | None = Field(
        default=None,
        description="PEM file of the TSA's certificate or of the CA that issues it: every token is "
        "verified with it when received and when checked. Needed when trusted time is on.",
    )
    tsa_timeout: float = Field(
        default=10.0, gt=0,
        description="Seconds to wait for the TSA's answer.",
    )

    base_url: str | None = Field(
        default=None,
        description="Public address of the web portal (esgtrack web), e.g. https://esg.example.kz: every "
        "message then carries a link, signed for its recipient, to their obligations. Unset: no link.",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Key that signs officers' links and staff sessions (32+ characters); default a random "
        "key made once in the data directory (secret.key). Changing it revokes every link and session.",
    )
    upload_max_mb: float = Field(
        default=25.0, gt=0, le=1024,
        description="Largest evidence file an officer may upload through the portal, in MB.",
    )
    prefect_ui_url: str | None = Field(
        default=None,
        description="The Prefect UI the ESG office dashboard links to; default PREFECT_UI_URL, else "
        "http://127.0.0.1:4200.",
    )
    oidc_issuer: str | None = Field(
        default=None,
        description="Single sign-on: the OpenID Connect issuer URL (its /.well-known/openid-configuration "
        "is read). Staff sign in there; their email must match a portal account's.",
    )
    oidc_client_id: str | None = Field(
        default=None,
        description="Single sign-on: the client id registered with the identity provider.",
    )
    oidc_client_secret: SecretStr | None = Field(
        default=None,
        description="Single sign-on: the client secret registered with the identity provider.",
    )

    @property
    def resolved_tsa_mode(self) -> str:
        return self.tsa_mode or ("best-effort" if self.tsa_url else "off")

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.home / 'esgtrack.db'}"

    @property
    def portal_url(self) -> str:
        """Where the portal is reached: ESGTRACK_BASE_URL, else `esgtrack web`'s default address."""
        return (self.base_url or "http://127.0.0.1:8000").rstrip("/")

    @property
    def secret_file(self) -> Path:
        return self.home / "secret.key"

    @property
    def journal_path(self) -> Path:
        return self.home / "journal.jsonl"

    @property
    def evidence_dir(self) -> Path:
        return self.home / "evidence"

    @property
    def loaded_directory(self) -> Path:
        """Where `esgtrack directory load` keeps its copy of the directory."""
        return self.home / "directory.yaml"

    @property
    def resolved_directory(self) -> Path:
        """ESGTRACK_DIRECTORY if set; else the copy `esgtrack directory load` put in the data
        directory; else the shipped example."""
        if self.directory is not None:
            return self.directory
        return self.loaded_directory if self.loaded_directory.exists() else EXAMPLE_DIRECTORY

    @property
    def resolved_policy(self) -> Path:
        """ESGTRACK_POLICY if set, else the shipped config/policy.yaml."""
        return self.policy or DEFAULT_POLICY


def signing_key(settings: Settings) -> bytes:
    """The key that signs links and sessions: ESGTRACK_SECRET_KEY, else the data directory's
    secret.key (made once, readable by its owner only)."""
    if settings.secret_key is not None:
        value = settings.secret_key.get_secret_value()
        if len(value) < 32:
            from models.core.errors import InputError

            raise InputError("the secret key must be at least 32 characters", field="ESGTRACK_SECRET_KEY")
        return value.encode()
    path = settings.secret_file
    if not path.exists():  # made whole in a private file, then linked into place: never seen half-written
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".secret-")
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
        try:
            os.link(temp, path)
        except FileExistsError:  # another process made it first: theirs it is
            pass
        finally:
            os.unlink(temp)
    key = path.read_bytes().strip()
    if len(key) < 32:
        from models.core.errors import InputError

        raise InputError("the secret key file holds fewer than 32 characters", file=str(path))
    return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process; tests call get_settings.cache_clear() after changing env."""
    return Settings()
