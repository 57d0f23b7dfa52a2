"""Loopback servers for the notification tests: SMTP (aiosmtpd) and HTTPS (trustme)."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit


def free_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SMTPServer:
    """aiosmtpd on 127.0.0.1 keeping every message it accepts, parsed."""

    def __init__(self, port: int | None = None) -> None:
        from aiosmtpd.controller import Controller

        self.messages: list[email.message.EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self._lock = threading.Lock()
        self.port = port or free_port()
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        message = email.message_from_bytes(envelope.original_content or envelope.content,
                                           policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted for delivery"

    def url(self, **params: str) -> str:
        query = "&".join(["from=esg@example.kz", *(f"{k}={v}" for k, v in params.items())])
        return f"mailto://127.0.0.1:{self.port}?{query}"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        with self._lock:
            return [m for m, (_, rcpt) in zip(self.messages, self.envelopes, strict=True) if address in rcpt]


def text_of(message: email.message.EmailMessage, subtype: str = "plain") -> str:
    part = message.get_body(preferencelist=(subtype,))
    return part.get_content() if part is not None else ""


@dataclass
class Request:
    path: str
    query: dict
    body: dict
    status: int


@dataclass
class HTTPSBehaviour:
    statuses: list[int] = field(default_factory=list)  # answered in turn, then 200
    delay: float = 0.0


class HTTPSServer:
    """A threaded HTTPS server with a throw-away CA: records POSTs, answers per behaviour."""

    def __init__(self, tmp: Path) -> None:
        import trustme

        self.ca = trustme.CA()
        self.ca_file = tmp / "test-ca.pem"
        self.ca.cert_pem.write_to_path(str(self.ca_file))
        self.behaviour = HTTPSBehaviour()
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ca.issue_cert("127.0.0.1").configure_cert(context)
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def _handler(self):
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with server._lock:
                    status = server.behaviour.statuses.pop(0) if server.behaviour.statuses else 200
                    delay = server.behaviour.delay
                time.sleep(delay)
                parts = urlsplit(self.path)
                with server._lock:
                    server.requests.append(Request(parts.path, parse_qs(parts.query),
                                                   json.loads(body or b"{}"), status))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        return Handler

    def workflows_url(self, workflow: str = "wf0123abcd", signature: str = "sig9876zyxw") -> str:
        return f"workflows://127.0.0.1:{self.port}/{workflow}/{signature}/"

    def accepted(self) -> list[Request]:
        with self._lock:
            return [r for r in self.requests if r.status in (200, 202)]

    def start(self) -> HTTPSServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
