"""Signed checkpoints, as an auditor uses them: a checkpoint handed out earlier proves that
today's ledger extends it, and catches a ledger cut short or rewritten and re-hashed (which a
plain `verify` cannot see). Inclusion proofs verify against the checkpoint's root."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from models.core import merkle, notes
from models.core.ledger import entry_hash
from models.store.db import get_engine
from tests.db.ledger_helpers import attack
from tests.db.test_ledger_tamper import EngineBeginAttack, T, entry

LATER = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)


@pytest.fixture
def ledger(cli, db_url, shipped_roadmap, snapshot):
    """KT's ledger of 4 entries (an import, two completions, a waiver) and a signing key."""

    def build() -> None:
        for command in (["roadmap", "import", str(shipped_roadmap)],
                        ["complete", "E6", "--period", "2025", "--by", "aigerim", "--evidence-ref", "45-p",
                         "--evidence-date", "2025-10-01"],
                        ["complete", "S2", "--period", "2025", "--by", "dana", "--url", "https://kt.kz/s2"],
                        ["waive", "E8", "--period", "2025", "--by", "esg", "--reason", "merged",
                         "--approved-by", "CAO"],
                        ["keys", "init"]):
            code, out, err = cli(*command)
            assert code == 0, (command, out, err)

    snapshot("checkpointed-ledger", build)
    return get_engine(db_url)


def sign(cli, tmp_path, name="kt.checkpoint"):
    out = tmp_path / name
    code, note, err = cli("checkpoint", "--out", str(out))
    assert code == 0, err
    assert out.read_text(encoding="utf-8") == note
    return out


def test_keys_are_made_once_and_shown(cli, ledger):
    code, out, err = cli("keys", "show")
    name, public = notes.parse_verifier_key(out)
    assert code == 0 and name == "esgtrack/ledger" and len(public) == 32
    code, _, err = cli("keys", "init")
    assert code == 2 and "a signing key exists already" in " ".join(err.split())


def test_a_checkpoint_is_a_signed_c2sp_checkpoint_of_the_tree(cli, ledger, tmp_path):
    note = sign(cli, tmp_path).read_text(encoding="utf-8")
    origin, size, root, time, blank, signature = note.split("\n")[:6]
    leaves = [merkle.leaf_hash(bytes.fromhex(entry(ledger, seq).hash)) for seq in range(1, 5)]
    assert (origin, size, base64.b64decode(root)) == ("esgtrack/ledger/KT", "4", merkle.root(leaves))
    assert time.startswith("time 2026-") and blank == "" and signature.startswith("\u2014 esgtrack/ledger ")
    name, public = notes.parse_verifier_key(cli("keys", "show")[1])
    assert notes.open_note(note, name=name, public=public) == "\n".join([origin, size, root, time]) + "\n"


def test_the_ledger_grown_since_extends_the_checkpoint(cli, ledger, tmp_path):
    old = sign(cli, tmp_path)
    assert cli("complete", "G8", "--period", "2025", "--by", "bolat", "--evidence-ref", "ISO-9",
               "--valid-until", "2099-01-01", now=LATER)[0] == 0
    code, out, err = cli("verify", "--checkpoint", str(old), "--format", "json")
    proven = json.loads(out)
    assert code == 0, err
    assert (proven["org"], proven["checkpoint_size"], proven["size"]) == ("KT", 4, 5)
    leaves = [merkle.leaf_hash(bytes.fromhex(entry(ledger, seq).hash)) for seq in range(1, 6)]
    assert merkle.verify_consistency(4, 5, merkle.root(leaves[:4]), merkle.root(leaves),
                                     [bytes.fromhex(p) for p in proven["consistency_proof"]])
    code, out, _ = cli("verify", "--checkpoint", str(old))
    assert code == 0 and "consistency proven" in out


def test_a_ledger_cut_short_below_the_checkpoint_is_caught(cli, ledger, tmp_path):
    old = sign(cli, tmp_path)
    attack(ledger, "DELETE FROM ledger_entry WHERE org = 'KT' AND seq = 4",
           "UPDATE occurrence SET status = 'open' WHERE status = 'waived'")
    assert cli("verify")[0] == 0  # the chain and the states agree: only the checkpoint knows
    code, _, err = cli("verify", "--checkpoint", str(old))
    assert code == 1 and "has 3 entries, the checkpoint" in " ".join(err.split())


def test_a_ledger_rewritten_and_rehashed_is_caught(cli, ledger, tmp_path):
    old = sign(cli, tmp_path)
    prev_hash = entry(ledger, 1).hash
    stored = [entry(ledger, seq) for seq in range(2, 5)]
    with EngineBeginAttack(ledger) as conn:
        for e in stored:
            text = e.payload.replace("45-p", "99-p")
            new_hash = entry_hash(prev_hash, text)
            conn.execute(T.update().where(T.c.org == "KT", T.c.seq == e.seq).values(
                payload=text, prev_hash=prev_hash, hash=new_hash))
            prev_hash = new_hash
    assert cli("verify")[0] == 0
    code, _, err = cli("verify", "--checkpoint", str(old))
    assert code == 1 and "no longer hash to the root" in " ".join(err.split())


def test_an_edited_or_foreign_checkpoint_does_not_verify(cli, ledger, tmp_path):
    old = sign(cli, tmp_path)
    edited = tmp_path / "edited.checkpoint"
    edited.write_text(old.read_text(encoding="utf-8").replace("\n4\n", "\n3\n", 1), encoding="utf-8")
    code, _, err = cli("verify", "--checkpoint", str(edited))
    assert code == 1 and "does not verify" in " ".join(err.split())
    other = Ed25519PrivateKey.generate()
    foreign = notes.verifier_key("esgtrack/ledger", notes.raw_public(other.public_key()))
    code, _, err = cli("verify", "--checkpoint", str(old), "--key", foreign)
    assert code == 1 and "carries no signature" in " ".join(err.split())
    code, _, err = cli("verify", "--checkpoint", str(old), "--key", "not-a-key")
    assert code == 2 and "--key" in err


def test_an_inclusion_proof_verifies_against_the_checkpoints_root(cli, ledger, tmp_path):
    note = sign(cli, tmp_path).read_text(encoding="utf-8")
    assert cli("complete", "G8", "--period", "2025", "--by", "bolat", "--evidence-ref", "ISO-9",
               "--valid-until", "2099-01-01", now=LATER)[0] == 0
    code, out, err = cli("prove", "2", "--size", "4")
    proof = json.loads(out)
    assert code == 0, err
    head = notes.parse_checkpoint(note.split("\n\n")[0] + "\n").root
    leaf = merkle.leaf_hash(bytes.fromhex(entry(ledger, 2).hash))
    assert bytes.fromhex(proof["leaf_hash"]) == leaf and bytes.fromhex(proof["root_hash"]) == head
    assert merkle.verify_inclusion(leaf, 1, 4, [bytes.fromhex(p) for p in proof["proof"]], head)
    assert cli("prove", "9")[0] == 2



def test_an_entry_edited_in_place_is_neither_proven_nor_signed(cli, ledger, tmp_path):
    old = sign(cli, tmp_path)
    attack(ledger, "UPDATE ledger_entry SET actor = 'mallory', payload = REPLACE(payload, 'aigerim', 'mallory') "
                   "WHERE org = 'KT' AND seq = 2")  # the stored hash left as it was
    code, _, err = cli("verify", "--checkpoint", str(old))
    assert code == 1 and "does not verify (entry 2" in " ".join(err.split())
    code, _, err = cli("checkpoint")
    assert code == 1 and "does not verify" in " ".join(err.split())


def test_a_ledger_cut_short_is_not_signed_again(cli, ledger, tmp_path):
    from config.settings import get_settings
    from flows.usecases import checkpoints

    sign(cli, tmp_path)
    attack(ledger, "DELETE FROM ledger_entry WHERE org = 'KT' AND seq = 4",
           "UPDATE occurrence SET status = 'open' WHERE status = 'waived'")
    code, _, err = cli("checkpoint")
    assert code == 1 and "has 3 entries, the checkpoint" in " ".join(err.split())
    signed, refused = checkpoints.checkpoint_grown(ledger, get_settings(), orgs=["KT"], now=LATER)
    assert signed == [] and "no checkpoint signed for KT" in refused[0]
    code, _, err = cli("verify", "--checkpoint", "x.checkpoint", "--head", "0" * 64)
    assert code == 2 and "--checkpoint" in err


# --- trusted time: RFC 3161 tokens from a real local TSA (tests/tsa.py) ----------------------


def test_a_checkpoint_gets_trusted_time_that_openssl_and_verify_accept(cli, ledger, local_tsa, tmp_path):
    from tests.tsa import openssl_verifies

    out = tmp_path / "kt.checkpoint"
    code, _, err = cli("checkpoint", "--out", str(out))
    assert code == 0 and "trusted time: " in err and "by CN=Test TSA" in err, err
    token = tmp_path / "kt.tsr"
    saved = tmp_path / "esgtrack-home" / "checkpoints" / "KT"
    assert token.read_bytes() == (saved / "4.tsr").read_bytes() and (saved / "4.checkpoint").is_file()
    checked = openssl_verifies(out, token, local_tsa)
    assert checked.returncode == 0 and "Verification: OK" in checked.stdout, checked.stderr
    code, shown, err = cli("verify", "--checkpoint", str(out))
    assert code == 0 and "trusted time: the checkpoint existed at " in " ".join(shown.split()), err
    proven = json.loads(cli("verify", "--checkpoint", str(out), "--format", "json")[1])
    assert "by CN=Test TSA,O=esgtrack tests" in proven["trusted_time"]


def test_a_swapped_or_foreign_token_fails_the_check(cli, ledger, local_tsa, tmp_path):
    from tests.tsa import make_ca, pem

    old = sign(cli, tmp_path, "old.checkpoint")
    assert cli("complete", "G8", "--period", "2025", "--by", "bolat", "--evidence-ref", "ISO-9",
               "--valid-until", "2099-01-01", now=LATER)[0] == 0
    new = sign(cli, tmp_path, "new.checkpoint")
    (tmp_path / "old.tsr").write_bytes((tmp_path / "new.tsr").read_bytes())  # the later time, on the old one
    code, _, err = cli("verify", "--checkpoint", str(old))
    assert code == 1 and "timestamp token: the token is for other data" in " ".join(err.split())
    other = tmp_path / "other-ca.pem"
    other.write_bytes(pem(make_ca("Another Root CA")[0]))
    code, _, err = cli("verify", "--checkpoint", str(new), "--tsa-cert", str(other))
    assert code == 1 and "neither a trusted TSA certificate nor issued by one" in " ".join(err.split())
    (tmp_path / "new.tsr").unlink()
    code, _, err = cli("verify", "--checkpoint", str(new), "--tsa-cert", str(local_tsa.tsa_pem))
    assert code == 1 and "has no trusted time: no timestamp token new.tsr" in " ".join(err.split())
    code, _, err = cli("verify", "--tsa-cert", str(other))
    assert code == 2 and "--tsa-cert" in err


def test_best_effort_signs_without_trusted_time_and_says_so(cli, ledger, local_tsa, tmp_path):
    from config.settings import get_settings
    from flows.usecases import checkpoints

    local_tsa.mode = "refuse"
    out = tmp_path / "kt.checkpoint"
    code, _, err = cli("checkpoint", "--out", str(out))
    assert code == 0 and "has no trusted time: the TSA at" in " ".join(err.split()) and "HTTP 500" in err
    assert out.is_file() and not (tmp_path / "kt.tsr").exists()
    assert cli("complete", "G8", "--period", "2025", "--by", "bolat", "--evidence-ref", "ISO-9",
               "--valid-until", "2099-01-01", now=LATER)[0] == 0
    local_tsa.mode = "garbage"
    signed, warnings = checkpoints.checkpoint_grown(ledger, get_settings(), orgs=["KT"], now=LATER)
    assert signed == ["KT"] and "has no trusted time: the TSA at" in warnings[0] and "no valid token" in warnings[0]
    local_tsa.mode = "ok"
    assert cli("waive", "S3", "--period", "2025", "--by", "esg", "--reason", "merged", "--approved-by", "CAO",
               now=LATER)[0] == 0
    assert checkpoints.checkpoint_grown(ledger, get_settings(), orgs=["KT"], now=LATER) == (["KT"], [])
    folder = checkpoints.checkpoint_dir(get_settings(), "KT")
    assert sorted(p.name for p in folder.iterdir()) == ["4.checkpoint", "5.checkpoint", "6.checkpoint", "6.tsr"]


def test_a_run_asks_a_failing_tsa_once(cli, ledger, local_tsa, shipped_roadmap):
    """The daily flow checkpoints every grown ledger; a TSA that is down costs one wait, not one
    per organisation, and every checkpoint says it has no trusted time."""
    from config.settings import get_settings
    from flows.usecases import checkpoints

    assert cli("roadmap", "import", str(shipped_roadmap), "--org", "KC")[0] == 0
    local_tsa.mode = "refuse"
    signed, warnings = checkpoints.checkpoint_grown(ledger, get_settings(), orgs=["KC", "KT"], now=LATER)
    assert signed == ["KC", "KT"] and local_tsa.posts == 1
    assert len(warnings) == 2 and "not asked again" in warnings[1] and "HTTP 500" in warnings[1]
    assert "http://127.0.0.1:" in warnings[0] and "/tsa" in warnings[0]


def test_required_trusted_time_signs_nothing_without_a_token(cli, ledger, local_tsa, tmp_path, monkeypatch):
    from config.settings import get_settings
    from flows.usecases import checkpoints

    monkeypatch.setenv("ESGTRACK_TSA_MODE", "required")
    get_settings.cache_clear()
    local_tsa.mode = "refuse"
    out = tmp_path / "kt.checkpoint"
    code, _, err = cli("checkpoint", "--out", str(out))
    assert code == 1 and "trusted time is required, so nothing was signed" in " ".join(err.split())
    assert not out.exists() and checkpoints.last_size(get_settings(), "KT") is None
    pack = tmp_path / "pack.zip"
    code, _, err = cli("evidence-pack", "--period", "2025", "--out", str(pack))
    assert code == 1 and "trusted time is required" in " ".join(err.split()) and not pack.exists()
    local_tsa.mode = "ok"
    assert cli("checkpoint", "--out", str(out))[0] == 0 and (tmp_path / "kt.tsr").is_file()
    monkeypatch.delenv("ESGTRACK_TSA_CERT")
    get_settings.cache_clear()
    code, _, err = cli("checkpoint")
    assert code == 2 and "ESGTRACK_TSA_CERT" in err
    monkeypatch.delenv("ESGTRACK_TSA_URL")
    get_settings.cache_clear()
    code, _, err = cli("checkpoint")
    assert code == 2 and "ESGTRACK_TSA_URL" in err and "trusted time is required but no TSA is set" in err


def test_a_tsa_url_is_shown_without_its_secrets():
    from flows.usecases.checkpoints import _shown

    assert _shown("https://user:secret@tsa.example.kz:8443/tsr?token=abc") == "https://tsa.example.kz:8443/tsr?…"
    assert _shown("http://127.0.0.1:8318/tsa") == "http://127.0.0.1:8318/tsa"


def test_a_tsa_that_is_not_http_or_a_bad_url_leaves_no_crash(cli, ledger, monkeypatch, tmp_path):
    """Best-effort: a TSA that answers garbage over the socket, or a URL that cannot be used,
    leaves the checkpoint without trusted time and says why; required: nothing is signed."""
    import socket
    import threading

    from config.settings import get_settings
    from tests.tsa import LocalTSA

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def garbage() -> None:
        for _ in range(2):
            conn, _ = server.accept()
            conn.recv(65536)
            conn.sendall(b"NOT HTTP AT ALL\r\n\r\n")
            conn.close()

    threading.Thread(target=garbage, daemon=True).start()
    with LocalTSA(tmp_path / "tsa") as tsa:  # its CA: a certificate to check with
        monkeypatch.setenv("ESGTRACK_TSA_CERT", str(tsa.ca_pem))
        monkeypatch.setenv("ESGTRACK_TSA_URL", f"http://127.0.0.1:{server.getsockname()[1]}/tsa")
        get_settings.cache_clear()
        code, _, err = cli("checkpoint")
        assert code == 0 and "gave no usable answer" in " ".join(err.split()), err
        monkeypatch.setenv("ESGTRACK_TSA_URL", "tsa.example.kz/tsr")  # no scheme
        get_settings.cache_clear()
        assert cli("complete", "G8", "--period", "2025", "--by", "bolat", "--evidence-ref", "ISO-9",
                   "--valid-until", "2099-01-01", now=LATER)[0] == 0
        code, _, err = cli("checkpoint")
        assert code == 0 and "expected an http:// or https:// URL" in " ".join(err.split()), err
        monkeypatch.setenv("ESGTRACK_TSA_MODE", "required")
        get_settings.cache_clear()
        code, _, err = cli("checkpoint")
        assert code == 2 and "ESGTRACK_TSA_URL" in err
    server.close()
