"""The esgtrack command line: `esgtrack --help` lists every command."""

from __future__ import annotations

import sys

from flows import cmd_daily, cmd_roadmap  # noqa: F401  (register their commands)
from flows import cmd_notify  # noqa: F401
from flows import cmd_report  # noqa: F401
from flows import cmd_ledger  # noqa: F401
from flows.cli_app import app
from flows.output import err_console
from models.errors import EsgtrackError


def main(argv: list[str] | None = None) -> None:
    """Entry point: user mistakes become one clear line and exit 2, never a traceback."""
    try:
        app(args=argv, prog_name="esgtrack", standalone_mode=False)
    except EsgtrackError as exc:
        err_console.print(f"[red]error:[/red] {exc}", highlight=False)
        sys.exit(exc.exit_code)
    except Exception as exc:  # click's own usage errors arrive here in non-standalone mode
        import click

        usage, abort = _vendored_click()  # typer 0.2x raises its own copy of click's errors
        if isinstance(exc, (click.exceptions.ClickException, *usage)):
            exc.show()
            sys.exit(2)
        if isinstance(exc, (click.exceptions.Abort, *abort)):
            sys.exit(130)
        raise
    sys.exit(0)


def _vendored_click() -> tuple[tuple, tuple]:
    try:
        import typer
        from typer._click import exceptions
    except ImportError:
        return (), ()
    return (exceptions.ClickException,), (typer.Abort,)


if __name__ == "__main__":
    main()
