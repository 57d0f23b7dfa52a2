"""The esgtrack command line: `esgtrack --help` lists every command."""

from __future__ import annotations

import sys

from flows import cmd_roadmap  # noqa: F401  (registers its commands)
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

        if isinstance(exc, click.exceptions.ClickException):
            exc.show()
            sys.exit(2)
        if isinstance(exc, click.exceptions.Abort):
            sys.exit(130)
        raise
    sys.exit(0)


if __name__ == "__main__":
    main()
