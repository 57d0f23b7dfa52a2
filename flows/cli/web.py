"""CLI: the web portal — serve it, manage staff accounts, issue and revoke officers' links."""

from __future__ import annotations

from typing import Annotated

import typer

from config.settings import get_settings
from flows.cli.app import FormatOpt, OrgOpt, app, db, now, org_or_default
from flows.cli.output import Format, console, emit
from models.core.errors import InputError

users_app = typer.Typer(help="Staff accounts of the web portal (ESG office, auditors, admins).", no_args_is_help=True)
links_app = typer.Typer(help="Officers' signed links into the web portal: issue, revoke.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(links_app, name="links")

PersonArg = Annotated[str, typer.Argument(help="The person's id in the directory, e.g. esg-head.")]


def _operator() -> str:
    """Who ran the command, as the ledger names them (the account on this server)."""
    import getpass

    return f"{getpass.getuser()} (command line)"


@app.command("web")
def web_cmd(
    host: Annotated[str, typer.Option(help="Address to listen on (0.0.0.0: every interface).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    forwarded_allow_ips: Annotated[str, typer.Option(
        "--forwarded-allow-ips", help="Addresses of your reverse proxies, comma-separated: their "
        "X-Forwarded-For names the client (rate limits and sign-in throttling count per client).")] = "127.0.0.1",
) -> None:
    """Serve the web portal (officers' obligations, review queue, dashboard, auditor's ledger) against
    the configured database. Put it behind your HTTPS reverse proxy and set ESGTRACK_BASE_URL."""
    import warnings

    # Authlib 1.9 (single sign-on) asks for httpx2 once on import and works on httpx: not the user's
    # concern. Its module sets its warnings to "always" when imported: ours goes in front after that.
    import authlib.deprecate  # noqa: F401
    import uvicorn

    warnings.filterwarnings("ignore", message="The httpx module is deprecated")
    from flows.web.app import create_app

    application = create_app(engine=db())
    console.print(f"esgtrack portal on http://{host}:{port} (staff sign in at /login; "
                  "officers open the link in their messages)")
    # no access log: an officer's first request carries their link's token in its path
    uvicorn.run(application, host=host, port=port, log_level="warning", access_log=False, proxy_headers=True,
                forwarded_allow_ips=forwarded_allow_ips)


@users_app.command("add")
def users_add(
    username: Annotated[str, typer.Argument(help="Sign-in name (one word).", metavar="USERNAME")],
    role: Annotated[str, typer.Option("--role", help="esg_office (everything), auditor (read-only), admin.")],
    name: Annotated[str, typer.Option("--name", help="Full name (the ledger names them so).")] = "",
    email: Annotated[str | None, typer.Option(
        "--email", help="Email; single sign-on (ESGTRACK_OIDC_*) matches accounts on it.")] = None,
    org: OrgOpt = None,
    password_stdin: Annotated[bool, typer.Option(
        "--password-stdin", help="Read the password from standard input (else it is asked for, twice).")] = False,
    sso_only: Annotated[bool, typer.Option("--sso-only", help="No password: signs in by single sign-on only.")]
        = False,
) -> None:
    """Create a staff account (the password is stored as an argon2id hash, never in clear)."""
    import sys

    from flows.usecases import staff

    password: str | None = None
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif not sso_only:
        password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    user = staff.add_user(db(), org=org_or_default(org), username=username, name=name, role=role, password=password,
                          email=email, now=now(), by=_operator())
    console.print(f"added {user.username} ({user.role}, {user.org})")


@users_app.command("list")
def users_list(org: OrgOpt = None, fmt: FormatOpt = Format.table) -> None:
    """The staff accounts: name, role, organisation, email, active."""
    from flows.usecases import staff

    rows = [{"username": u.username, "name": u.name, "role": u.role, "org": u.org, "email": u.email or "",
             "sso_only": u.password_hash is None, "active": u.active}
            for u in staff.list_users(db(), org=org)]
    columns = ("username", "name", "role", "org", "email", "sso_only", "active")
    emit(rows, fmt=fmt, columns=list(columns), title="Staff accounts", empty="no accounts: esgtrack users add")


@users_app.command("disable")
def users_disable(username: Annotated[str, typer.Argument(metavar="USERNAME", help="The account.")]) -> None:
    """Disable an account: its sessions end at their next request."""
    from flows.usecases import staff

    staff.set_active(db(), username=username, active=False, now=now(), by=_operator())
    console.print(f"disabled {username}")


@users_app.command("enable")
def users_enable(username: Annotated[str, typer.Argument(metavar="USERNAME", help="The account.")]) -> None:
    """Enable a disabled account again."""
    from flows.usecases import staff

    staff.set_active(db(), username=username, active=True, now=now(), by=_operator())
    console.print(f"enabled {username}")


@links_app.command("issue")
def links_issue(
    person: PersonArg,
    org: OrgOpt = None,
    calendar: Annotated[bool, typer.Option("--calendar", help="The calendar subscription link (webcal) instead.")]
        = False,
) -> None:
    """Print a person's signed link to their obligations (valid for the policy's links.valid_days)."""
    from flows.usecases import portal
    from flows.usecases.planning import load_directory_for, load_policy_for

    settings = get_settings()
    if person not in load_directory_for(settings).people:
        raise InputError("no such person in the directory", field="PERSON", value=person)
    url = portal.link_url(settings, load_policy_for(settings), org=org_or_default(org), person=person, now=now(),
                          purpose="cal" if calendar else "my")
    typer.echo(url.replace("https://", "webcal://").replace("http://", "webcal://") if calendar else url)


@links_app.command("revoke")
def links_revoke(
    person: PersonArg,
    by: Annotated[str, typer.Option("--by", help="Who revokes them.")] = "",
    reason: Annotated[str, typer.Option("--reason", help="Why (e.g. a forwarded email, a person who left).")] = "",
    org: OrgOpt = None,
) -> None:
    """Revoke every link of a person issued until now (messages sent later carry new ones)."""
    from flows.usecases import portal

    portal.revoke_links(db(), org=org_or_default(org), person=person, by=by, reason=reason, now=now())
    console.print(f"revoked the links of {person} issued until now")
