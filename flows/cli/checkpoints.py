"""CLI: signed checkpoints of the ledger — keys init/show, checkpoint, prove.

Commands import what they run inside themselves, on purpose: `esgtrack --help` and each
command load only their own libraries, not every library of every command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from config.settings import get_settings
from flows.cli.app import OrgOpt, app, db, now, org_or_default, out_file
from flows.cli.output import console, err_console, to_json
from flows.usecases import checkpoints

keys_app = typer.Typer(help="The key that signs the ledger's checkpoints.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("init")
def keys_init(
    name: Annotated[str, typer.Option(help="The key's name in signatures (no spaces, no '+').")]
        = checkpoints.KEY_NAME,
) -> None:
    """Create the Ed25519 key that signs checkpoints; print the verifier key to hand to auditors."""
    files, verifier = checkpoints.init_keys(get_settings(), name=name)
    err_console.print(f"signing key: {files.private} (keep it private; back it up)")
    err_console.print(f"verifier key, for auditors: {files.public}")
    console.print(verifier, highlight=False, soft_wrap=True)


@keys_app.command("show")
def keys_show() -> None:
    """Print the verifier key (name+key ID+public key) auditors check checkpoints with."""
    console.print(checkpoints.verifier(get_settings()), highlight=False, soft_wrap=True)


@app.command("checkpoint")
def checkpoint_cmd(
    org: OrgOpt = None,
    out: Annotated[Path | None, typer.Option("--out", help="Also write the checkpoint to this file.",
                                             callback=out_file)] = None,
) -> None:
    """Sign a checkpoint of an organisation's ledger (tree size, Merkle root, time): a C2SP
    signed note, with an RFC 3161 timestamp token (NAME.tsr beside it) when a TSA is set
    (ESGTRACK_TSA_URL). Hand it to the auditor; `esgtrack verify --checkpoint FILE` later proves
    the ledger only grew since."""
    settings, code = get_settings(), org_or_default(org)
    signed = checkpoints.checkpoint(db(), settings, org=code, now=now())
    written = [str(signed.path)]
    if out is not None:
        out.write_text(signed.note, encoding="utf-8")
        written.append(str(out))
        stale = checkpoints.token_path(out)
        if signed.token is not None:
            stale.write_bytes(signed.token)
            written.append(str(stale))
        else:
            stale.unlink(missing_ok=True)
    err_console.print(f"checkpoint of {code}: {signed.made.size} entries, root {signed.made.root.hex()}; "
                      f"saved as {' and '.join(written)}", highlight=False, soft_wrap=True)
    if signed.stamp is not None:
        err_console.print(f"trusted time: {signed.stamp.describe()}", highlight=False, soft_wrap=True)
    if signed.warning:
        err_console.print(f"[yellow]warning:[/yellow] {signed.warning}", highlight=False, soft_wrap=True)
    console.print(signed.note, end="", highlight=False, soft_wrap=True)


@app.command("prove")
def prove_cmd(
    entry: Annotated[int, typer.Argument(help="The entry's seq (see `esgtrack log`).")],
    org: OrgOpt = None,
    size: Annotated[int | None, typer.Option(
        "--size", help="The tree size of a checkpoint to prove against (default: the whole ledger).")] = None,
) -> None:
    """Print an entry's RFC 6962 inclusion proof (JSON): leaf index, tree size, leaf hash, root
    hash and audit path, checkable with any RFC 6962 implementation."""
    console.print(to_json(checkpoints.prove(db(), org=org_or_default(org), seq=entry, size=size)),
                  highlight=False, soft_wrap=True)
