"""A real local RFC 3161 Time-Stamping Authority for the tests: `openssl ts -reply` behind a
loopback HTTP handler, with a CA and a TSA certificate (timeStamping, critical) made here.

Certificates are valid 2000–2099 and nothing here reads Python's clock, so the shifted-clock
lanes see the same TSA; the token's genTime is OpenSSL's (the machine's real) time.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

OPENSSL = "openssl"
VALID = (dt.datetime(2000, 1, 1, tzinfo=dt.UTC), dt.datetime(2099, 12, 31, tzinfo=dt.UTC))

CONFIG = """\
[ tsa ]
default_tsa = local
[ local ]
dir = {folder}
serial = $dir/serial
crypto_device = builtin
signer_cert = $dir/tsa.pem
certs = $dir/ca.pem
signer_key = $dir/tsa.key
signer_digest = sha256
default_policy = 1.2.3.4.1
digests = sha256, sha384, sha512
accuracy = secs:1
ordering = yes
tsa_name = yes
ess_cert_id_chain = no
ess_cert_id_alg = sha256
"""


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "esgtrack tests"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_ca(common: str = "Test TSA Root CA") -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name(common)).issuer_name(_name(common))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(VALID[0]).not_valid_after(VALID[1])
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, hashes.SHA256()))
    return cert, key


def make_signer(ca: x509.Certificate, ca_key: ec.EllipticCurvePrivateKey, *, common: str = "Test TSA",
                usage: tuple = (ExtendedKeyUsageOID.TIME_STAMPING,), rsa_key: bool = False):
    key = rsa.generate_private_key(65537, 2048) if rsa_key else ec.generate_private_key(ec.SECP256R1())
    builder = (x509.CertificateBuilder().subject_name(_name(common)).issuer_name(ca.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(VALID[0]).not_valid_after(VALID[1])
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
    if usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(usage)), critical=True)
    return builder.sign(ca_key, hashes.SHA256()), key


def pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs)


class LocalTSA:
    """`openssl ts -reply` answering POSTs on 127.0.0.1. `mode`: "ok", "refuse" (an HTTP 500),
    "garbage" (a 200 that is no timestamp response). `ca_pem`/`tsa_pem` are the files an
    auditor would trust."""

    def __init__(self, folder: Path, *, rsa_key: bool = False, usage: tuple = (ExtendedKeyUsageOID.TIME_STAMPING,),
                 ca: tuple | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.ca, ca_key = ca or make_ca()
        self.cert, key = make_signer(self.ca, ca_key, rsa_key=rsa_key, usage=usage)
        self.ca_pem, self.tsa_pem = folder / "ca.pem", folder / "tsa.pem"
        self.ca_pem.write_bytes(pem(self.ca))
        self.tsa_pem.write_bytes(pem(self.cert))
        (folder / "tsa.key").write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                                           serialization.PrivateFormat.PKCS8,
                                                           serialization.NoEncryption()))
        (folder / "serial").write_text("01\n")
        self.config = folder / "openssl.cnf"
        self.config.write_text(CONFIG.format(folder=folder))
        self.mode = "ok"
        self.requests = 0  # timestamps issued
        self.posts = 0  # requests received, whatever the answer
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/tsa"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> LocalTSA:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def reply(self, query: bytes) -> bytes:
        with self._lock, tempfile.TemporaryDirectory(dir=self.folder) as work:
            self.requests += 1
            (Path(work) / "q.tsq").write_bytes(query)
            subprocess.run([OPENSSL, "ts", "-reply", "-config", str(self.config), "-queryfile", "q.tsq",
                            "-out", "r.tsr"], cwd=work, check=True, capture_output=True)
            return (Path(work) / "r.tsr").read_bytes()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        tsa = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                tsa.posts += 1
                query = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if tsa.mode == "refuse" or self.headers.get("Content-Type") != "application/timestamp-query":
                    self.send_error(500, "refused")
                    return
                body = tsa.reply(query) if tsa.mode == "ok" else b"<html>not a TSA</html>"
                self.send_response(200)
                self.send_header("Content-Type", "application/timestamp-reply")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: object) -> None:
                pass

        return Handler


def openssl_verifies(data: Path, response: Path, tsa: LocalTSA) -> subprocess.CompletedProcess:
    """OpenSSL's own check of a timestamp response for `data` (an implementation not ours)."""
    return subprocess.run([OPENSSL, "ts", "-verify", "-data", str(data), "-in", str(response),
                           "-CAfile", str(tsa.ca_pem), "-untrusted", str(tsa.tsa_pem)],
                          capture_output=True, text=True)
