"""URLs and secrets appear only masked: apprise's privacy form plus what it leaves readable."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from config.settings import Settings
from models.core.directory import Person
from models.core.errors import InputError
from notifications.channels import (
    channels_for,
    fit_card,
    mask_url,
    redact,
    secrets_of,
    smtp_base,
    target_for,
)

TEAMS_NATIVE = ("https://prod-161.westeurope.logic.azure.com:443/workflows/643e69f83c8944438d68119179a10a64"
                "/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun"
                "&sv=1.0&sig=KODuebWbDGYFr0z0eu-6Rj8aUKz7108W3wrNJZxFE5A")


@pytest.mark.parametrize(("url", "secret"), [
    ("mailtos://esg:Pa55word!x@mail.example.kz:587?from=esg@example.kz", "Pa55word!x"),
    ("workflows://prod-1.example.kz/643e69f83c8944438d68/KODuebWbDGYFr0z0eu6R/", "643e69f83c8944438d68"),
    ("workflows://prod-1.example.kz/643e69f83c8944438d68/KODuebWbDGYFr0z0eu6R/", "KODuebWbDGYFr0z0eu6R"),
    (TEAMS_NATIVE, "KODuebWbDGYFr0z0eu-6Rj8aUKz7108W3wrNJZxFE5A"),
    (TEAMS_NATIVE, "643e69f83c8944438d68119179a10a64"),
    ("json://hook.example.kz/in?+X-Api-Token=tok3n-value-42&-Accept=1", "tok3n-value-42"),
    ("ntfy://user:ntfyPass99@ntfy.example.kz/esg-topic?token=tk_abcdef123", "tk_abcdef123"),
    ("notaservice://host.example.kz/s3cr3t-path-token-1", "s3cr3t-path-token-1"),
])
def test_masked_urls_hide_secrets(url, secret):
    masked = mask_url(url)
    assert secret not in masked and "://" in masked
    assert secret in secrets_of(url)
    assert redact(f"failed to reach {url} ({secret})", secrets_of(url)).count("****") >= 1
    assert secret not in redact(f"failed to reach {url} ({secret})", secrets_of(url))


def test_header_values_are_masked_though_apprise_leaves_them():
    masked = mask_url("json://hook.example.kz/in?+X-Api-Token=tok3n-value-42")
    assert "X-Api-Token=****" in masked


def settings(tmp_path, **values):
    return Settings(home=tmp_path, **values)


def person(**values):
    return Person(**{"id": "p", "name": "P", "email": "p@example.kz", "teams": None, "apprise": (),
                     "language": "kk", "deputy": None, **values})


def test_routes_per_person(tmp_path):
    with_smtp = settings(tmp_path, smtp_url=SecretStr("mailto://127.0.0.1:2525?from=esg@example.kz"))
    assert channels_for(person(), settings(tmp_path)) == ["journal"]
    assert channels_for(person(), with_smtp) == ["email"]
    many = person(teams="workflows://h.example.kz/wf1/sig1/", apprise=("json://a.example.kz", "json://b.example.kz"))
    assert channels_for(many, with_smtp) == ["email", "teams", "apprise", "apprise-2"]
    assert target_for(many, "apprise-2", with_smtp).url == "json://b.example.kz"
    email = target_for(person(), "email", with_smtp)
    assert email.url == "mailto://127.0.0.1:2525?from=esg@example.kz&to=p@example.kz"
    with pytest.raises(InputError):
        target_for(person(), "teams", with_smtp)


@pytest.mark.parametrize("url", ["smtp://relay.example.kz", "mailto://relay.example.kz?to=x@example.kz"])
def test_bad_smtp_url_is_an_input_error_and_masked(tmp_path, url):
    with pytest.raises(InputError) as err:
        smtp_base(settings(tmp_path, smtp_url=SecretStr(url.replace("://", "://u:Secr3tPw@"))))
    assert err.value.field == "ESGTRACK_SMTP_URL" and "Secr3tPw" not in str(err.value)


def test_fit_card_drops_items_to_fit():
    card = {"type": "AdaptiveCard", "body": [{"type": "TextBlock", "text": "head"}]
            + [{"type": "Container", "items": [{"type": "TextBlock", "text": "ж" * 5000}]} for _ in range(10)]
            + [{"type": "TextBlock", "text": "footer"}]}
    small = fit_card(card, limit=30_000)
    assert 0 < sum(b["type"] == "Container" for b in small["body"]) < 10
    assert small["body"][-1]["text"] == "footer" and small["body"][-2]["text"].startswith("+")
