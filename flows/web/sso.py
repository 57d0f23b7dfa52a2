"""Staff single sign-on by OpenID Connect (Authlib): the authorization code flow with PKCE, the
ID token's signature, issuer, audience, expiry and nonce checked, the account matched by email.
Nothing here logs or shows a token or the client secret."""

from __future__ import annotations

from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.starlette_client import OAuth
from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response
from joserfc.errors import ClaimError, JoseError

from config.settings import Settings
from flows.usecases import staff
from flows.web import office, security
from flows.web.pages import limited, portal

router = APIRouter()

CALLBACK = "/auth/oidc"
NEXT_KEY = "oidc_next"
AGAIN = "Start again from the sign-in page."


def _register(settings: Settings) -> Any:
    """The provider's client, from these settings; its metadata and keys are fetched on first use."""
    issuer = (settings.oidc_issuer or "").rstrip("/")
    secret = settings.oidc_client_secret.get_secret_value() if settings.oidc_client_secret else None
    kwargs: dict[str, Any] = {"scope": "openid email profile", "code_challenge_method": "S256"}
    if secret is None:  # a public client: PKCE alone binds the code to this browser
        kwargs["token_endpoint_auth_method"] = "none"
    return OAuth().register("oidc", client_id=settings.oidc_client_id, client_secret=secret,
                            server_metadata_url=f"{issuer}/.well-known/openid-configuration", client_kwargs=kwargs)


def _client(request: Request) -> Any:
    """This app's provider client (one per app, from its own settings): 404 when single sign-on
    is not configured."""
    settings = portal(request).settings
    if not settings.oidc_issuer:
        raise HTTPException(status_code=404, detail="single sign-on is not configured")
    if not settings.oidc_client_id:
        raise HTTPException(status_code=503, detail="single sign-on is half configured: set ESGTRACK_OIDC_CLIENT_ID")
    client = getattr(request.app.state, "oidc", None)
    if client is None:
        client = request.app.state.oidc = _register(settings)
    return client


def _unreachable(request: Request) -> HTTPException:
    issuer = portal(request).settings.oidc_issuer
    return HTTPException(status_code=502, detail=f"The identity provider ({issuer}) could not be reached or gave "
                                                 f"an unusable answer. Try again later, or sign in with a password.")


@router.get("/login/oidc")
async def begin(request: Request, next: str | None = None) -> Response:
    client = _client(request)
    request.session[NEXT_KEY] = security.safe_next(next, "/dashboard")
    try:
        response: Response = await client.authorize_redirect(request, portal(request).settings.portal_url + CALLBACK)
    except (httpx.HTTPError, ValueError, RuntimeError) as exc:
        raise _unreachable(request) from exc
    return response


@router.get(CALLBACK)
async def callback(request: Request) -> Response:
    client = _client(request)
    limited(request, "login")
    try:
        token = await client.authorize_access_token(request)
    except MismatchingStateError as exc:
        raise HTTPException(status_code=400, detail="This sign-in does not belong to this browser session (state "
                            f"mismatch: it expired, was used already, or was started elsewhere). {AGAIN}") from exc
    except OAuthError as exc:
        raise HTTPException(status_code=400, detail=f"The identity provider did not sign you in "
                            f"({_code(exc.error)}). {AGAIN}") from exc
    except (JoseError, AuthlibBaseError) as exc:  # signature, issuer, audience, expiry or nonce
        raise HTTPException(status_code=400, detail=f"The identity provider's ID token was refused "
                            f"({_why(exc)}). {AGAIN}") from exc
    except (httpx.HTTPError, ValueError, RuntimeError) as exc:
        raise _unreachable(request) from exc
    user = _account(request, token.get("userinfo") or {})
    target = security.safe_next(request.session.get(NEXT_KEY), "/dashboard")
    office.start_session(request, user)
    if user.role == "auditor" and target == "/dashboard":
        target = "/ledger"
    return RedirectResponse(target, status_code=303)


def _code(error: object) -> str:
    """The provider's error code, if it is one (query text is shown only when it looks like a code)."""
    text = str(error or "")
    return text if text.replace("_", "").isalnum() and len(text) <= 40 else "error"


def _why(exc: Exception) -> str:
    """What was wrong with the ID token, by error code and claim name (never the token's text)."""
    claim = getattr(exc, "claim", None) if isinstance(exc, ClaimError) else None
    return _code(getattr(exc, "error", None)) + (f" {claim!r}" if claim else "")


def _account(request: Request, claims: dict[str, Any]) -> staff.Staff:
    """The active staff account of the ID token's verified email (403 otherwise)."""
    if not claims:
        raise HTTPException(status_code=400, detail=f"The identity provider returned no ID token. {AGAIN}")
    email = str(claims.get("email") or "").strip().lower()
    if not email or claims.get("email_verified") not in (True, "true"):
        raise HTTPException(status_code=403, detail="The identity provider gave no verified email address for "
                            "your account, and the portal matches staff on it. Ask the provider's administrator.")
    user = staff.by_email(portal(request).engine, email)
    if user is None:
        raise HTTPException(status_code=403, detail=(
            f"No active portal account has the email {email}. An administrator must first create it: "
            f"esgtrack users add USERNAME --email {email} --role esg_office|auditor|admin --sso-only "
            "(or enable a disabled one: esgtrack users enable USERNAME)."))
    return user
