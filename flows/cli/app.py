"""The typer application and what every command shares: options, the database, dates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import pendulum
import typer
from sqlalchemy.engine import Engine

from config.settings import get_settings
from flows.cli.output import Format, Lang
from flows.usecases import database
from models.core.errors import InputError
from models.core.roadmap import ROADMAP_TZ
from models.core.schedule import morning
from models.store.tables import MeasureRow

app = typer.Typer(
    name="esgtrack",
    help="Track an ESG roadmap's obligations: import, remind, escalate, record, audit.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
roadmap_app = typer.Typer(help="Import and convert roadmap documents.", no_args_is_help=True)
app.add_typer(roadmap_app, name="roadmap")

OrgOpt = Annotated[str | None, typer.Option(
    "--org", help="Organisation code (default: all, or ESGTRACK_ORG when one is needed).")]
FormatOpt = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
LangOpt = Annotated[Lang, typer.Option("--lang", help="Language of titles in the output.")]
AsOfOpt = Annotated[str | None, typer.Option(
    "--as-of", help="Date (YYYY-MM-DD) to compute from; default today in Almaty.")]

_clock: list[dt.datetime] = []  # the instant --now named for this invocation; empty: the system clock


@app.callback()
def _root(now: Annotated[str | None, typer.Option(
        "--now", metavar="INSTANT",
        help="Run as if the time were INSTANT (ISO 8601: 2026-02-10T11:00+05:00; a bare date or "
             "a time without a zone is read in Almaty): replays, reproducible reports, tests. "
             "Default: the system clock.")] = None) -> None:
    """Track an ESG roadmap's obligations: import, remind, escalate, record, audit."""
    _clock.clear()
    if now is not None:
        _clock.append(parse_instant(now, "--now"))


def db() -> Engine:
    """The configured database (flows.usecases.database), migrated on first use."""
    return database.engine()


def org_or_default(org: str | None) -> str:
    return org or get_settings().org


def out_file(path: Path | None) -> Path | None:
    """--out: a file in a directory that exists (a typo in a folder name is an error, not a new
    folder), and not a directory itself. Used as the options' callback: checked before any work."""
    if path is None:
        return None
    if path.is_dir():
        raise InputError("this is a directory: name the file to write", field="--out", value=str(path))
    if not path.parent.is_dir():
        raise InputError(f"no such directory: {path.parent} (create it first)", field="--out", value=str(path))
    return path


def parse_date(text: str, option: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise InputError("expected a date as YYYY-MM-DD", field=option, value=text) from None


def parse_instant(text: str, option: str) -> dt.datetime:
    """An ISO 8601 date or date-time; without a zone it is Almaty's (a bare date: 09:00)."""
    try:
        value = pendulum.parse(text.strip(), tz=ROADMAP_TZ, exact=True)
    except ValueError:  # pendulum's ParserError is one
        raise InputError("expected a date or date-time in ISO 8601 (2026-02-10T11:00+05:00)",
                         field=option, value=text) from None
    if isinstance(value, dt.datetime):
        return dt.datetime.fromtimestamp(value.timestamp(), dt.UTC)
    if isinstance(value, dt.date):
        return morning(value)
    raise InputError("expected a date or date-time, not a duration or a time alone", field=option, value=text)


def now() -> dt.datetime:
    """The current instant (UTC): --now when given, else the system clock. The CLI is the shell:
    it reads the clock here and passes the instant to every use case."""
    return _clock[0] if _clock else dt.datetime.now(dt.UTC)


def today() -> dt.date:
    """Today in Almaty, by now()."""
    return pendulum.instance(now()).in_timezone(ROADMAP_TZ).date()


def as_of_date(text: str | None) -> dt.date:
    return parse_date(text, "--as-of") if text else today()


def title_in(row: MeasureRow, lang: Lang) -> str:
    return {"ru": row.title_ru, "en": row.title_en}.get(lang.value) or row.title
