"""The esgtrack command line: `esgtrack --help` lists every command."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from config.settings import get_settings
from flows.cli import checkpoints, daily, ledger, notify, report, roadmap, targets, web  # noqa: F401  (register their commands)
from flows.cli.app import app as command_line  # not bound as `app`: flows.cli.app is the module
from flows.cli.output import err_console
from models.core.errors import EsgtrackError

if TYPE_CHECKING:
    from typer._click.exceptions import ClickException as VendoredClickException


def main(argv: list[str] | None = None) -> None:
    """Entry point: user mistakes become one clear line and exit 2, never a traceback."""
    try:
        command_line(args=argv, prog_name="esgtrack", standalone_mode=False)
    except EsgtrackError as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)  # paths stay whole
        sys.exit(exc.exit_code)
    except Exception as exc:  # click's own usage errors arrive here in non-standalone mode
        import click

        known = _environment_failure(exc)
        if known:
            message, code = known
            err_console.print(f"[red]error:[/red] {message}", highlight=False, soft_wrap=True)
            sys.exit(code)

        usage, abort = _vendored_click()  # typer 0.2x raises its own copy of click's errors
        shown: tuple[type[click.exceptions.ClickException] | type[VendoredClickException], ...] = (
            click.exceptions.ClickException, *usage)
        if isinstance(exc, shown):
            exc.show()
            sys.exit(2)
        if isinstance(exc, (click.exceptions.Abort, *abort)):
            sys.exit(130)
        raise
    sys.exit(0)


def _environment_failure(exc: Exception) -> tuple[str, int] | None:
    """Settings that do not validate (exit 2) and a database that cannot be used (a bad URL:
    exit 2; unreachable: exit 1), as one line instead of a traceback."""
    import pydantic
    import sqlalchemy.exc as sa_exc

    if isinstance(exc, pydantic.ValidationError):
        first = exc.errors()[0]
        name = "ESGTRACK_" + str(first["loc"][0]).upper() if first.get("loc") else "ESGTRACK_*"
        return f"setting {name}: {first['msg']} (got {first.get('input')!r})", 2
    if isinstance(exc, (sa_exc.ArgumentError, sa_exc.NoSuchModuleError)):
        return f"ESGTRACK_DATABASE_URL is not a usable database URL: {exc}", 2
    if isinstance(exc, sa_exc.OperationalError):
        from sqlalchemy.engine import make_url

        url = make_url(get_settings().resolved_database_url).render_as_string(hide_password=True)
        return f"cannot use the database {url}: {str(exc.orig).strip().splitlines()[0]}", 1
    return None


def _vendored_click() -> tuple[tuple[type[VendoredClickException], ...], tuple[type[BaseException], ...]]:
    try:
        import typer
        from typer._click import exceptions
    except ImportError:
        return (), ()
    return (exceptions.ClickException,), (typer.Abort,)


if __name__ == "__main__":
    main()
