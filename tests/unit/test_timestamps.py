"""RFC 3161 tokens (models/core/timestamps.py) against a real TSA: OpenSSL's `ts -reply` on
127.0.0.1 (tests/tsa.py). OpenSSL's own `ts -verify` checks the same responses, so the request
we build and the tokens we accept are the standard's, not only our reading of it."""

from __future__ import annotations

import hashlib
import subprocess
import urllib.request

import pytest

from models.core import timestamps
from tests.tsa import OPENSSL, LocalTSA, make_ca, make_signer, openssl_verifies

MESSAGE = "esgtrack/ledger/KT\n4\nq6z...=\ntime 2026-11-16T04:00:00+00:00\n\n\u2014 sig\n".encode()


def ask(tsa: LocalTSA, message: bytes = MESSAGE) -> tuple[bytes, int]:
    query, nonce = timestamps.request(message)
    asked = urllib.request.Request(tsa.url, data=query, headers={"Content-Type": timestamps.MEDIA_QUERY})
    with urllib.request.urlopen(asked, timeout=30) as answer:
        return answer.read(), nonce


@pytest.fixture(scope="module")
def tsa(tmp_path_factory):
    with LocalTSA(tmp_path_factory.mktemp("tsa")) as server:
        yield server


@pytest.mark.parametrize("rsa_key", [False, True], ids=["ecdsa", "rsa"])
def test_a_token_from_a_real_tsa_verifies_here_and_in_openssl(tmp_path, rsa_key):
    with LocalTSA(tmp_path / "tsa", rsa_key=rsa_key) as tsa:
        response, nonce = ask(tsa)
    trusted_ca = timestamps.load_certificates(tsa.ca_pem.read_bytes())
    stamp = timestamps.verify(response, MESSAGE, trusted_ca, nonce=nonce)
    assert stamp.tsa == "CN=Test TSA,O=esgtrack tests" and stamp.policy == "1.2.3.4.1" and stamp.serial >= 1
    assert stamp.gen_time.tzinfo is not None
    # the TSA's own certificate trusted instead of its CA, and the bare token instead of the response
    trusted_tsa = timestamps.load_certificates(tsa.tsa_pem.read_bytes())
    assert timestamps.verify(timestamps.token_of(response), MESSAGE, trusted_tsa) == stamp
    (tmp_path / "data").write_bytes(MESSAGE)
    (tmp_path / "r.tsr").write_bytes(response)
    checked = openssl_verifies(tmp_path / "data", tmp_path / "r.tsr", tsa)
    assert checked.returncode == 0 and "Verification: OK" in checked.stdout, checked.stderr


def test_a_token_for_other_data_or_another_request_is_refused(tsa):
    response, nonce = ask(tsa)
    trusted = timestamps.load_certificates(tsa.ca_pem.read_bytes())
    with pytest.raises(timestamps.TimestampError, match="message imprint is not this checkpoint's hash"):
        timestamps.verify(response, MESSAGE + b" ", trusted)
    with pytest.raises(timestamps.TimestampError, match="nonce is not the request's"):
        timestamps.verify(response, MESSAGE, trusted, nonce=nonce + 1)


def test_a_token_of_an_untrusted_tsa_is_refused(tsa, tmp_path):
    response, _ = ask(tsa)
    other_ca, _key = make_ca("Another Root CA")
    with pytest.raises(timestamps.TimestampError, match="neither a trusted TSA certificate nor issued by one"):
        timestamps.verify(response, MESSAGE, [other_ca])
    with pytest.raises(timestamps.TimestampError, match="no TSA certificate"):
        timestamps.verify(response, MESSAGE, [])


def test_an_edited_token_is_refused(tsa):
    response, _ = ask(tsa)
    trusted = timestamps.load_certificates(tsa.ca_pem.read_bytes())
    stamp = timestamps.verify(response, MESSAGE, trusted)
    moved = stamp.gen_time.strftime("%Y%m%d%H%M%S").encode()
    assert response.count(moved) == 1  # genTime, inside the signed TSTInfo
    earlier = response.replace(moved, b"2001" + moved[4:])
    with pytest.raises(timestamps.TimestampError, match="TSTInfo was changed"):
        timestamps.verify(earlier, MESSAGE, trusted)
    signature_flipped = response[:-3] + bytes([response[-3] ^ 1]) + response[-2:]
    with pytest.raises(timestamps.TimestampError):
        timestamps.verify(signature_flipped, MESSAGE, trusted)
    with pytest.raises(timestamps.TimestampError, match=r"malformed|ends early"):
        timestamps.verify(response[:40], MESSAGE, trusted)
    with pytest.raises(timestamps.TimestampError):
        timestamps.verify(b"<html>not a TSA</html>", MESSAGE, trusted)


def test_a_token_signed_by_a_certificate_without_the_timestamping_usage_is_refused(tsa, tmp_path):
    """A signer the CA issued for something else (TLS) re-signs a genuine TSTInfo: the CMS
    signature verifies, the certificate is not a TSA's."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import ExtendedKeyUsageOID

    ca, ca_key = make_ca("Shared Root CA")
    server_cert, server_key = make_signer(ca, ca_key, common="www.example.kz",
                                          usage=(ExtendedKeyUsageOID.SERVER_AUTH,))
    response, _ = ask(tsa)
    tst_info = _tst_info_of(response)
    (tmp_path / "tst.der").write_bytes(tst_info)
    (tmp_path / "cert.pem").write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(server_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    subprocess.run([OPENSSL, "cms", "-sign", "-binary", "-nodetach", "-outform", "DER", "-md", "sha256",
                    "-econtent_type", timestamps.TST_INFO, "-in", "tst.der", "-signer", "cert.pem",
                    "-inkey", "key.pem", "-out", "forged.der"], cwd=tmp_path, check=True, capture_output=True)
    with pytest.raises(timestamps.TimestampError, match="not a timestamping certificate"):
        timestamps.verify((tmp_path / "forged.der").read_bytes(), MESSAGE, [ca])


def test_a_refusal_is_reported_with_the_tsas_status(tsa, tmp_path):
    (tmp_path / "data").write_bytes(MESSAGE)
    subprocess.run([OPENSSL, "ts", "-query", "-data", "data", "-sha1", "-cert", "-out", "q.tsq"],
                   cwd=tmp_path, check=True, capture_output=True)  # SHA-1: a digest this TSA refuses
    refusal = tsa.reply((tmp_path / "q.tsq").read_bytes())
    with pytest.raises(timestamps.TimestampError, match=r"the TSA refused the request \(status 2"):
        timestamps.token_of(refusal)


def test_the_request_is_a_standard_timestamp_query(tmp_path):
    query, _ = timestamps.request(MESSAGE, nonce=12345)
    (tmp_path / "q.tsq").write_bytes(query)
    shown = subprocess.run([OPENSSL, "ts", "-query", "-in", "q.tsq", "-text"], cwd=tmp_path,
                           capture_output=True, text=True, check=True).stdout
    assert "Hash Algorithm: sha256" in shown and "Nonce: 0x3039" in shown and "Certificate required: yes" in shown
    dumped = "".join(line.split(" - ")[1][:47] for line in shown.splitlines() if " - " in line)
    assert dumped.replace(" ", "").replace("-", "") == hashlib.sha256(MESSAGE).hexdigest()


def _tst_info_of(response: bytes) -> bytes:
    token = timestamps._parse(timestamps.token_of(response))
    signed = token.children()[1].children()[0].children()
    return signed[2].children()[1].children()[0].body
