"""RFC 3161 trusted time for checkpoints: the request a Time-Stamping Authority (TSA) answers,
and the check of the token it returns against the TSA's certificate — pure, the standard
library and `cryptography` only (it is embedded in the evidence pack's verify_pack.py).

A token binds the SHA-256 of a signed checkpoint (the note's bytes) to the TSA's time
(`genTime`): the checkpoint, and every ledger entry it covers, existed then. Verifying means:
the response is granted; its TSTInfo's message imprint is the checkpoint's hash (and the
nonce the one sent); the CMS signer info's message digest is the TSTInfo's; its signature
verifies with the signer's certificate; that certificate is one the auditor trusts, or is
issued directly by one, carries the timeStamping extended key usage, and was valid at
genTime. Tokens are DER; only the few ASN.1 shapes RFC 3161 and RFC 5652 use are read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

SIGNED_DATA = "1.2.840.113549.1.7.2"
TST_INFO = "1.2.840.113549.1.9.16.1.4"
CONTENT_TYPE = "1.2.840.113549.1.9.3"
MESSAGE_DIGEST = "1.2.840.113549.1.9.4"
SHA256 = "2.16.840.1.101.3.4.2.1"
DIGESTS: dict[str, Callable[[], hashes.HashAlgorithm]] = {"1.3.14.3.2.26": hashes.SHA1, SHA256: hashes.SHA256,
           "2.16.840.1.101.3.4.2.2": hashes.SHA384, "2.16.840.1.101.3.4.2.3": hashes.SHA512}
IMPRINTS = {SHA256, "2.16.840.1.101.3.4.2.2", "2.16.840.1.101.3.4.2.3"}  # what a token may bind: SHA-2
GRANTED = (0, 1)  # granted, grantedWithMods
MEDIA_QUERY, MEDIA_REPLY = "application/timestamp-query", "application/timestamp-reply"


class TimestampError(ValueError):
    """A timestamp response or token that cannot be read or does not verify."""


@dataclass(frozen=True)
class Stamp:
    """What a verified token says: when, by whom (the signer certificate's subject), serial."""

    gen_time: dt.datetime
    tsa: str
    serial: int
    policy: str

    def describe(self) -> str:
        return f"{self.gen_time.isoformat()} by {self.tsa} (serial {self.serial})"


# --- DER, the few shapes used ---------------------------------------------------------------

def _length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(raw)]) + raw


def _der(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _length(len(content)) + content


def _integer(n: int) -> bytes:
    return _der(0x02, n.to_bytes(n.bit_length() // 8 + 1, "big", signed=True))


def _oid(dotted: str) -> bytes:
    first, second, *rest = (int(p) for p in dotted.split("."))
    body = bytearray()
    for arc in [first * 40 + second, *rest]:
        chunk = [arc & 0x7F]
        while arc := arc >> 7:
            chunk.append(0x80 | (arc & 0x7F))
        body += bytes(reversed(chunk))
    return _der(0x06, bytes(body))


@dataclass(frozen=True)
class _Node:
    tag: int
    raw: bytes  # the whole TLV
    body: bytes  # the content octets

    def children(self) -> list[_Node]:
        out, pos = [], 0
        while pos < len(self.body):
            node, pos = _read(self.body, pos)
            out.append(node)
        return out

    def oid(self) -> str:
        if self.tag != 0x06 or not self.body:
            raise TimestampError("an object identifier was expected")
        arcs, value = [], 0
        for byte in self.body:
            value = (value << 7) | (byte & 0x7F)
            if not byte & 0x80:
                arcs.append(value)
                value = 0
        first = min(arcs[0] // 40, 2)
        return ".".join(str(a) for a in [first, arcs[0] - 40 * first, *arcs[1:]])

    def integer(self) -> int:
        if self.tag != 0x02:
            raise TimestampError("an integer was expected")
        return int.from_bytes(self.body, "big", signed=True)


def _read(data: bytes, pos: int) -> tuple[_Node, int]:
    try:
        tag, first = data[pos], data[pos + 1]
        start = pos + 2
        if first & 0x80:
            count = first & 0x7F
            if not 1 <= count <= 4:
                raise TimestampError("a DER length of this form is not supported")
            size, start = int.from_bytes(data[start:start + count], "big"), start + count
        else:
            size = first
    except IndexError:
        raise TimestampError("the DER data ends early") from None
    if tag & 0x1F == 0x1F or start + size > len(data):
        raise TimestampError("the DER data is malformed or ends early")
    return _Node(tag, data[pos:start + size], data[start:start + size]), start + size


def _parse(data: bytes) -> _Node:
    node, end = _read(data, 0)
    if end != len(data):
        raise TimestampError("trailing bytes after the DER data")
    return node


# --- the request ----------------------------------------------------------------------------

def request(message: bytes, *, nonce: int | None = None) -> tuple[bytes, int]:
    """A DER TimeStampReq for the SHA-256 of `message`, asking for the TSA's certificate in the
    token; returns it and its nonce."""
    nonce = secrets.randbits(63) if nonce is None else nonce
    imprint = _der(0x30, _der(0x30, _oid(SHA256) + b"\x05\x00")
                   + _der(0x04, hashlib.sha256(message).digest()))
    return _der(0x30, _integer(1) + imprint + _integer(nonce) + b"\x01\x01\xff"), nonce


# --- the response and its token -------------------------------------------------------------

def token_of(response: bytes) -> bytes:
    """The TimeStampToken of a DER TimeStampResp; TimestampError when not granted."""
    parts = _parse(response).children()
    if not parts or parts[0].tag != 0x30:
        raise TimestampError("not a timestamp response")
    status = parts[0].children()
    code = status[0].integer() if status else -1
    if code not in GRANTED:
        said = [c.body.decode("utf-8", "replace") for s in status[1:2] for c in s.children()]
        raise TimestampError(f"the TSA refused the request (status {code}"
                             + (f": {'; '.join(said)}" if said else "") + ")")
    if len(parts) < 2:
        raise TimestampError("the TSA granted the request but sent no token")
    return parts[1].raw


def _explicit(node: _Node, tag: int) -> _Node | None:
    return next((c for c in node.children() if c.tag == tag), None)


def _time(node: _Node) -> dt.datetime:
    text = node.body.decode("ascii")
    if node.tag != 0x18 or not text.endswith("Z"):
        raise TimestampError("genTime is not a GeneralizedTime in UTC")
    whole, _, fraction = text[:-1].partition(".")
    moment = dt.datetime.strptime(whole, "%Y%m%d%H%M%S").replace(tzinfo=dt.UTC)
    return moment + dt.timedelta(microseconds=int((fraction + "000000")[:6])) if fraction else moment


def verify(data: bytes, message: bytes, trusted: list[x509.Certificate], *, nonce: int | None = None) -> Stamp:
    """Check a timestamp response or token (DER) for `message` against the certificates the
    auditor trusts (the TSA's own, or its CA); returns what it proves, TimestampError says why not."""
    try:
        return _verify(data, message, trusted, nonce)
    except TimestampError:
        raise
    except Exception as exc:  # a token is outside data: whatever it breaks means "does not verify"
        raise TimestampError(f"the token is malformed ({type(exc).__name__}: {exc})") from None


def _verify(data: bytes, message: bytes, trusted: list[x509.Certificate], nonce: int | None) -> Stamp:
    if not trusted:
        raise TimestampError("no TSA certificate to check the token with")
    top = _parse(data)
    token = _parse(token_of(data)) if top.children() and top.children()[0].tag == 0x30 else top
    parts = token.children()
    if len(parts) != 2 or parts[0].oid() != SIGNED_DATA:
        raise TimestampError("the token is not CMS signed data")
    signed = parts[1].children()[0].children()  # [0] EXPLICIT SignedData
    encapsulated = signed[2].children()
    if encapsulated[0].oid() != TST_INFO:
        raise TimestampError("the token does not hold a TSTInfo")
    tst_der = encapsulated[1].children()[0].body  # [0] EXPLICIT OCTET STRING
    carried = [x509.load_der_x509_certificate(c.raw) for s in signed[3:] if s.tag == 0xA0 for c in s.children()]
    infos = signed[-1].children()
    if len(infos) != 1:
        raise TimestampError(f"the token has {len(infos)} signer infos, one was expected")
    info = _info(infos[0], tst_der)
    tst = _tst_info(tst_der)
    if tst["imprint_alg"] not in IMPRINTS:
        raise TimestampError(f"the token's message imprint uses a hash not accepted here ({tst['imprint_alg']}; "
                             "SHA-256 or stronger)")
    digest = hashes.Hash(DIGESTS[tst["imprint_alg"]]())
    digest.update(message)
    if tst["imprint"] != digest.finalize():
        raise TimestampError("the token is for other data: its message imprint is not this checkpoint's hash")
    if nonce is not None and tst["nonce"] != nonce:
        raise TimestampError("the token's nonce is not the request's: a replayed or mixed-up response")
    signer = _signer(info["sid"], carried + trusted)
    _check_signer(signer, trusted, tst["gen_time"])
    _check_signature(signer, info)
    return Stamp(tst["gen_time"], signer.subject.rfc4514_string(), tst["serial"], tst["policy"])


def _info(node: _Node, tst_der: bytes) -> dict:
    version, sid, digest_alg, *rest = node.children()
    attrs = next((n for n in rest if n.tag == 0xA0), None)
    if attrs is None:
        raise TimestampError("the token's signer info has no signed attributes")
    signature = next(n for n in rest if n.tag == 0x04)
    algorithm = digest_alg.children()[0].oid()
    if algorithm not in DIGESTS:
        raise TimestampError(f"the token is signed with an unknown digest ({algorithm})")
    values = {a.children()[0].oid(): a.children()[1].children()[0] for a in attrs.children()}
    if CONTENT_TYPE not in values or values[CONTENT_TYPE].oid() != TST_INFO:
        raise TimestampError("the token's signed content type is not TSTInfo")
    digest = hashes.Hash(DIGESTS[algorithm]())
    digest.update(tst_der)
    if MESSAGE_DIGEST not in values or values[MESSAGE_DIGEST].body != digest.finalize():
        raise TimestampError("the token's TSTInfo was changed: it does not match the signed digest")
    return {"version": version.integer(), "sid": sid, "digest": DIGESTS[algorithm],
            "signed": b"\x31" + attrs.raw[1:], "signature": signature.body}


def _tst_info(der: bytes) -> dict:
    version, policy, imprint, serial, gen_time, *rest = _parse(der).children()
    algorithm, hashed = imprint.children()
    nonce = next((n.integer() for n in rest if n.tag == 0x02), None)
    return {"policy": policy.oid(), "imprint_alg": algorithm.children()[0].oid(), "imprint": hashed.body,
            "serial": serial.integer(), "gen_time": _time(gen_time), "nonce": nonce,
            "version": version.integer()}


def _signer(sid: _Node, certificates: list[x509.Certificate]) -> x509.Certificate:
    """The certificate the signer info names (issuer and serial, or subject key identifier)."""
    for cert in certificates:
        if sid.tag == 0x30:
            issuer, serial = sid.children()
            if serial.integer() == cert.serial_number and issuer.raw == cert.issuer.public_bytes():
                return cert
        elif sid.tag == 0x80:
            try:
                ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
            except x509.ExtensionNotFound:
                continue
            if ski == sid.body:
                return cert
    raise TimestampError("the token's signer certificate is neither in the token nor among the trusted ones")


def _check_signer(signer: x509.Certificate, trusted: list[x509.Certificate], at: dt.datetime) -> None:
    if signer not in trusted and not any(_issued_by(signer, ca) for ca in trusted):
        raise TimestampError(f"the token is signed by {signer.subject.rfc4514_string()}, which is neither a "
                             "trusted TSA certificate nor issued by one")
    try:
        usage = signer.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is None or x509.ExtendedKeyUsageOID.TIME_STAMPING not in usage:
        raise TimestampError(f"{signer.subject.rfc4514_string()} is not a timestamping certificate "
                             "(no timeStamping extended key usage)")
    if not signer.not_valid_before_utc <= at <= signer.not_valid_after_utc:
        raise TimestampError(f"the TSA certificate was not valid at the token's time {at.isoformat()}")


def _issued_by(cert: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _check_signature(signer: x509.Certificate, info: dict) -> None:
    key, algorithm = signer.public_key(), info["digest"]()
    try:
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(info["signature"], info["signed"], padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(info["signature"], info["signed"], ec.ECDSA(algorithm))
        elif isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(info["signature"], info["signed"])
        else:
            raise TimestampError(f"the TSA's key type {type(key).__name__} is not supported")
    except InvalidSignature:
        raise TimestampError("the token's signature does not verify with the TSA's certificate") from None


def load_certificates(pem: bytes) -> list[x509.Certificate]:
    """The certificates of a PEM file (the TSA's, its CA's)."""
    try:
        return x509.load_pem_x509_certificates(pem)
    except ValueError as exc:
        raise TimestampError(f"not a PEM certificate file ({exc})") from None
