"""Staff single sign-on (flows/web/sso.py) against a real OpenID provider on 127.0.0.1: a small
Starlette app served by uvicorn in a thread (live_server), with discovery, an authorization
endpoint that signs in whoever the test names, a token endpoint that checks the client's secret
and PKCE and signs RS256 ID tokens with a key made here, and its JWKS. Authlib is not mocked.

The provider's clock is the real one (Authlib checks the ID token's exp against it); the
portal's is NOW."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import httpx
import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from flows.usecases import staff
from tests.conftest import NOW

CLIENT_ID = "esgtrack-portal"
CLIENT_SECRET = "s3cret-of-the-portal-never-shown"
EMAIL = "sso.user@example.kz"


@dataclass
class Provider:
    """The identity provider's side: who is signed in there, what it has issued."""

    key: RSAKey
    email: str = EMAIL
    nonce: str | None = None  # the nonce to put in ID tokens instead of the one asked for
    verified: bool | None = True  # the ID token's email_verified (None: no such claim)
    issuer: str = ""
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    issued: list[str] = field(default_factory=list)  # access and ID tokens handed out

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/.well-known/openid-configuration", self.discovery),
                                 Route("/authorize", self.authorize), Route("/token", self.token, methods=["POST"]),
                                 Route("/jwks", self.jwks)])

    async def discovery(self, request: Request) -> Response:
        return JSONResponse({
            "issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
            "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"], "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic"]})

    async def authorize(self, request: Request) -> Response:
        q = request.query_params
        assert q["client_id"] == CLIENT_ID and q["response_type"] == "code"
        assert set(q["scope"].split()) == {"openid", "email", "profile"}
        assert q["code_challenge_method"] == "S256"
        code = secrets.token_urlsafe(16)
        self.codes[code] = {"nonce": q["nonce"], "challenge": q["code_challenge"], "redirect_uri": q["redirect_uri"]}
        return RedirectResponse(f"{q['redirect_uri']}?{urlencode({'code': code, 'state': q['state']})}", 302)

    async def token(self, request: Request) -> Response:
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "basic" or base64.b64decode(credentials).decode() != f"{CLIENT_ID}:{CLIENT_SECRET}":
            return JSONResponse({"error": "invalid_client"}, 401)
        form = await request.form()
        grant = self.codes.pop(str(form.get("code")), None)
        verifier = str(form.get("code_verifier") or "")
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if grant is None or form.get("redirect_uri") != grant["redirect_uri"] or challenge != grant["challenge"]:
            return JSONResponse({"error": "invalid_grant"}, 400)
        now = int(time.time())  # the provider's clock: Authlib checks exp against the real one
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "sub": "u-1", "email": self.email,
                  "email_verified": self.verified, "nonce": self.nonce or grant["nonce"], "iat": now, "exp": now + 300}
        if self.verified is None:  # a provider that does not say
            del claims["email_verified"]
        id_token = jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, self.key)
        access = secrets.token_urlsafe(24)
        self.issued += [access, id_token]
        return JSONResponse({"access_token": access, "token_type": "Bearer", "expires_in": 300, "id_token": id_token})

    async def jwks(self, request: Request) -> Response:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})


@pytest.fixture(scope="module")
def signing_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig", "alg": "RS256"})


@pytest.fixture
def provider(signing_key: RSAKey, live_server: Callable[[object], str],
             monkeypatch: pytest.MonkeyPatch) -> Provider:
    """A running provider, configured as the portal's (ESGTRACK_OIDC_*)."""
    from config.settings import get_settings

    idp = Provider(signing_key)
    idp.issuer = live_server(idp.app())
    monkeypatch.setenv("ESGTRACK_OIDC_ISSUER", idp.issuer)
    monkeypatch.setenv("ESGTRACK_OIDC_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("ESGTRACK_OIDC_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("ESGTRACK_BASE_URL", "http://testserver")
    get_settings.cache_clear()
    return idp


def portal(engine: sa.Engine) -> TestClient:
    from flows.web.app import create_app

    return TestClient(create_app(engine=engine, clock=lambda: NOW), follow_redirects=False)


def through_provider(client: TestClient, provider: Provider, start: str = "/login/oidc") -> str:
    """Start the sign-in at the portal and follow the provider's redirects by hand: the portal's
    callback URL, with the provider's code and state."""
    begun = client.get(start)
    assert begun.status_code == 302, begun.text
    assert begun.headers["location"].startswith(f"{provider.issuer}/authorize?")
    back = httpx.get(begun.headers["location"], follow_redirects=False)
    assert back.status_code == 302
    assert back.headers["location"].startswith("http://testserver/auth/oidc?")
    return back.headers["location"]


def with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return urlunsplit(parts._replace(query=urlencode(query)))


def add_sso_user(engine: sa.Engine, role: str = "esg_office") -> staff.Staff:
    return staff.add_user(engine, org="KT", username="sso-user", name="SSO User", role=role, password=None,
                          email=EMAIL, now=NOW)


def shows_no_secret(response: Any, provider: Provider) -> None:
    for secret in (CLIENT_SECRET, *provider.issued):
        assert secret not in response.text


def test_a_known_staff_email_signs_in(imported: sa.Engine, provider: Provider) -> None:
    add_sso_user(imported)
    client = portal(imported)
    assert client.get("/review").status_code == 303  # not signed in yet: to /login
    assert "/login/oidc" in client.get("/login").text

    done = client.get(through_provider(client, provider))

    assert done.status_code == 303 and done.headers["location"] == "/dashboard"
    review = client.get("/review")
    assert review.status_code == 200
    shows_no_secret(review, provider)


def test_the_next_target_is_kept_and_an_auditor_lands_on_the_ledger(imported: sa.Engine, provider: Provider) -> None:
    add_sso_user(imported, role="auditor")
    for asked, landed in (("//evil.example", "/ledger"), ("/ledger?page=2", "/ledger?page=2")):
        client = portal(imported)
        done = client.get(through_provider(client, provider, f"/login/oidc?{urlencode({'next': asked})}"))
        assert done.headers["location"] == landed


def test_an_unknown_email_is_refused_with_how_to_add_it(imported: sa.Engine, provider: Provider) -> None:
    provider.email = "nobody@example.kz"
    client = portal(imported)

    refused = client.get(through_provider(client, provider))

    assert refused.status_code == 403
    assert "esgtrack users add USERNAME --email nobody@example.kz --role" in refused.text
    assert client.get("/review").status_code == 303  # no session
    shows_no_secret(refused, provider)


def test_a_disabled_account_is_refused(imported: sa.Engine, provider: Provider) -> None:
    add_sso_user(imported)
    staff.set_active(imported, username="sso-user", active=False, now=NOW)
    client = portal(imported)
    assert client.get(through_provider(client, provider)).status_code == 403


@pytest.mark.parametrize("verified", [False, None])
def test_an_email_the_provider_has_not_verified_is_refused(imported: sa.Engine, provider: Provider,
                                                           verified: bool | None) -> None:
    add_sso_user(imported)
    provider.verified = verified
    client = portal(imported)
    refused = client.get(through_provider(client, provider))
    assert refused.status_code == 403 and "no verified email" in refused.text
    assert client.get("/review").status_code == 303  # no session


def test_a_tampered_state_is_refused(imported: sa.Engine, provider: Provider) -> None:
    add_sso_user(imported)
    client = portal(imported)

    refused = client.get(with_query(through_provider(client, provider), state="forged-state"))

    assert refused.status_code == 400
    assert "state mismatch" in refused.text and "Traceback" not in refused.text
    assert client.get("/review").status_code == 303


def test_an_id_token_for_another_nonce_is_refused(imported: sa.Engine, provider: Provider) -> None:
    add_sso_user(imported)
    provider.nonce = "a-nonce-of-another-sign-in"
    client = portal(imported)

    refused = client.get(through_provider(client, provider))

    assert refused.status_code == 400
    assert "ID token was refused" in refused.text and "nonce" in refused.text
    assert client.get("/review").status_code == 303
    shows_no_secret(refused, provider)


def test_a_provider_error_is_a_clear_400(imported: sa.Engine, provider: Provider) -> None:
    client = portal(imported)
    callback = through_provider(client, provider)
    state = parse_qs(urlsplit(callback).query)["state"][0]

    refused = client.get(f"/auth/oidc?{urlencode({'error': 'access_denied', 'state': state})}")

    assert refused.status_code == 400 and "access_denied" in refused.text


def test_without_oidc_settings_there_is_no_single_sign_on(imported: sa.Engine) -> None:
    client = portal(imported)
    assert client.get("/login/oidc").status_code == 404
    assert client.get("/auth/oidc?code=x&state=y").status_code == 404
    login = client.get("/login")
    assert login.status_code == 200 and "/login/oidc" not in login.text
