"""The officer's pages over HTTP (Starlette's TestClient, the real app and database): links
that open and those that do not, field-level errors, upload checks, CSRF, headers, limits."""

import datetime as dt
import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from config.settings import get_settings
from flows.usecases import portal
from flows.usecases.planning import load_policy_for
from flows.web import security
from flows.web.app import create_app
from models.store.tables import LedgerEntry, Submission
from tests.conftest import NOW


def client(engine, *, now=NOW, limits=None):
    clock = [now]
    app = create_app(engine=engine, clock=lambda: clock[0], limits=limits)
    return TestClient(app, base_url="https://testserver"), clock


def link(person="cao", *, now=NOW, org="KT", purpose="my"):
    settings = get_settings()
    url = portal.link_url(settings, load_policy_for(settings), org=org, person=person, now=now, purpose=purpose)
    return url.split("127.0.0.1:8000", 1)[1]


def csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def occurrence_of(html: str, measure: str) -> int:
    return int(re.search(rf'id="o(\d+)" data-measure="{measure}"', html).group(1))


def entries(engine) -> int:
    with engine.connect() as c:
        return c.execute(sa.select(sa.func.count()).select_from(LedgerEntry)).scalar_one()


def test_a_link_opens_my_obligations_in_my_language_and_leaves_the_address_bar(engine, imported):
    c, _ = client(engine)
    first = c.get(link(), follow_redirects=False)
    assert first.status_code == 303 and first.headers["location"] == "/me"
    page = c.get("/me")
    assert page.status_code == 200 and "Мои обязательства" in page.text and "Марат Жаксылыков" in page.text
    assert 'data-measure="E1"' in page.text and 'data-measure="S1"' not in page.text  # only cao's
    assert "webcal://" in page.text
    english = c.get("/lang/en?next=/me")
    assert "My obligations" in english.text and english.url.path == "/me"


@pytest.mark.parametrize(("case", "status", "words"), [
    ("expired", 410, "has expired"), ("forged", 403, "not valid"), ("revoked", 403, "was revoked"),
    ("calendar", 403, "not valid"), ("malformed", 400, "not valid")])
def test_links_that_do_not_open(engine, imported, case, status, words):
    c, clock = client(engine)
    target = link()
    if case == "expired":
        clock[0] = NOW + dt.timedelta(days=load_policy_for(get_settings()).link_days)
    elif case == "forged":
        target = target[:-1] + ("A" if target[-1] != "A" else "B")
    elif case == "revoked":
        portal.revoke_links(engine, org="KT", person="cao", by="ESG office", reason="forwarded", now=NOW)
    elif case == "calendar":
        target = link(purpose="cal").replace("/cal/", "/o/").removesuffix(".ics")
    else:
        target = "/o/nonsense"
    answer = c.get(target, follow_redirects=False)
    assert answer.status_code == status and target.rsplit("/", 1)[1] not in answer.text  # nor in its links
    assert words in c.get("/lang/en?next=" + target).text
    assert c.get("/me").status_code == 403  # no session was opened


def test_a_session_ends_when_the_link_expires_or_is_revoked(engine, imported):
    c, _ = client(engine)
    c.get(link())
    assert c.get("/me").status_code == 200
    portal.revoke_links(engine, org="KT", person="cao", by="ESG office", reason="left",
                        now=NOW + dt.timedelta(minutes=1))
    assert c.get("/me").status_code == 403
    c2, clock2 = client(engine)
    c2.get(link(now=NOW + dt.timedelta(minutes=2)))
    clock2[0] = NOW + dt.timedelta(days=31)
    assert c2.get("/me").status_code == 410


def test_field_level_errors_and_nothing_written(engine, imported):
    c, _ = client(engine)
    page = c.get(link())
    e6 = occurrence_of(page.text, "E6")  # an order: number and date
    before = entries(engine)
    answer = c.post(f"/me/{e6}/complete", data={"csrf": csrf(page.text), "ref": "45-п", "date": "31.12.2025"})
    assert answer.status_code == 400
    # in the officer's language (Russian for cao), with the check's own words after it
    assert re.search(r'data-field="date">Укажите дату документа \(ГГГГ-ММ-ДД\): expected a date, YYYY-MM-DD',
                     answer.text)
    answer = c.post(f"/me/{e6}/complete", data={"csrf": csrf(page.text), "ref": "45-п"})
    assert answer.status_code == 400 and 'data-field="date"' in answer.text and 'value="45-п"' in answer.text
    assert entries(engine) == before


@pytest.mark.parametrize(("name", "content", "message"), [
    ("report.exe", b"MZ\x90\x00", ".exe is not accepted"),
    ("report.pdf", b"<html>not a pdf", "is not a PDF file"),
    ("empty.pdf", b"", "is empty"),
])
def test_uploads_are_type_checked(engine, imported, name, content, message):
    c, _ = client(engine)
    page = c.get(link())
    e1 = occurrence_of(page.text, "E1")
    answer = c.post(f"/me/{e1}/complete", data={"csrf": csrf(page.text)}, files=[("files", (name, content))])
    assert answer.status_code == 400 and message in answer.text
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Submission)).scalar_one() == 0


def test_uploads_are_size_limited_and_stored_under_a_safe_name(engine, imported, monkeypatch):
    monkeypatch.setenv("ESGTRACK_UPLOAD_MAX_MB", "0.001")  # 1048 bytes
    get_settings.cache_clear()
    c, _ = client(engine)
    page = c.get(link())
    e1 = occurrence_of(page.text, "E1")
    big = c.post(f"/me/{e1}/complete", data={"csrf": csrf(page.text)},
                 files=[("files", ("big.pdf", b"%PDF" + b"x" * 2000))])
    assert big.status_code == 400 and "larger than 0.001 MB" in big.text
    ok = c.post(f"/me/{e1}/complete", data={"csrf": csrf(page.text)},
                files=[("files", ("../../etc/passwd.txt", b"plain text evidence"))], follow_redirects=False)
    assert ok.status_code == 303
    with engine.connect() as conn:
        payload = conn.execute(sa.select(Submission.payload)).scalar_one()
    assert payload["evidence"]["files"][0]["name"] == "passwd.txt"


def test_posts_need_the_sessions_csrf_token(engine, imported):
    c, _ = client(engine)
    page = c.get(link())
    e1 = occurrence_of(page.text, "E1")
    for token in (None, "forged-token"):
        data = {"url": "https://example.kz/report"} | ({"csrf": token} if token else {})
        assert c.post(f"/me/{e1}/complete", data=data).status_code == 403
    other, _ = client(engine)  # another browser's token does not fit this session
    other_token = csrf(other.get(link(person="md-infosec")).text)
    assert c.post(f"/me/{e1}/complete", data={"csrf": other_token, "url": "https://example.kz/r"}).status_code == 403
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Submission)).scalar_one() == 0


def test_an_officer_cannot_act_on_another_persons_or_organisations_obligation(engine, imported):
    c, _ = client(engine)
    page = c.get(link(person="md-infosec"))
    e1 = occurrence_of(c.get(link()).text, "E1")  # cao's; the session is now cao's
    c2, _ = client(engine)
    page = c2.get(link(person="md-infosec"))
    answer = c2.post(f"/me/{e1}/complete", data={"csrf": csrf(page.text), "url": "https://example.kz/r"})
    assert answer.status_code == 400 and "no such obligation of yours" in answer.text
    from config import SHIPPED_ROADMAP
    from flows.usecases import roadmap as roadmaps
    from models.core.normalised import load_roadmap
    from models.store.db import session_scope

    with session_scope(engine) as s:
        roadmaps.import_roadmap(s, org="XX", loaded=load_roadmap(SHIPPED_ROADMAP), now=NOW)
    c3, _ = client(engine)
    page = c3.get(link(org="XX"))  # cao's link in another organisation: KT's occurrences are not its
    assert occurrence_of(page.text, "E1") != e1
    answer = c3.post(f"/me/{e1}/complete", data={"csrf": csrf(page.text), "url": "https://example.kz/r"})
    assert answer.status_code == 400 and "no such obligation of yours" in answer.text


def test_security_headers_and_no_caching(engine, imported):
    c, _ = client(engine)
    answer = c.get(link())
    for name, value in (("x-content-type-options", "nosniff"), ("x-frame-options", "DENY"),
                        ("referrer-policy", "no-referrer"), ("cache-control", "no-store")):
        assert answer.headers[name] == value
    assert "script-src 'self'" in answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    cookie = answer.history[0].headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_links_are_rate_limited(engine, imported):
    c, _ = client(engine, limits={"link": security.RateLimit(3)})
    codes = [c.get("/o/forged.token", follow_redirects=False).status_code for _ in range(5)]
    assert codes == [403, 403, 403, 429, 429]


def test_the_calendar_subscription_is_the_persons_own(engine, imported):
    c, _ = client(engine)
    feed = c.get(link(purpose="cal"))
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    assert "BEGIN:VCALENDAR" in feed.text and "E1" in feed.text and "S1 " not in feed.text
    assert c.get(link(purpose="my").replace("/o/", "/cal/") + ".ics").status_code == 403  # single-purpose


def test_redirects_stay_on_the_site():
    assert security.safe_next("/me") == "/me"
    for target in ("https://evil.example", "//evil.example", "/\\evil.example", "", None, "me"):
        assert security.safe_next(target) == "/"
    assert security.safe_name("../../etc/passwd") == "passwd"
    assert security.safe_name("..\\..\\boot.ini") == "boot.ini"
    assert security.safe_name("Есеп 2025 <final>.pdf") == "Есеп 2025 _final_.pdf"


def multipart(token: str, size: int) -> tuple[bytes, str]:
    boundary = "esgtrack-test-boundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{token}\r\n"
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"big.pdf\"\r\n"
            "Content-Type: application/pdf\r\n\r\n").encode()
    body = head + b"%PDF" + b"x" * size + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def test_a_body_past_the_limit_stops_there_even_without_a_content_length(engine, imported, monkeypatch):
    monkeypatch.setenv("ESGTRACK_UPLOAD_MAX_MB", "0.05")  # 52 kB a file: 20 files + 1 MB a request
    get_settings.cache_clear()
    c, _ = client(engine)
    page = c.get(link())
    e1 = occurrence_of(page.text, "E1")
    body, kind = multipart(csrf(page.text), 3 * 1024 * 1024)
    declared = c.post(f"/me/{e1}/complete", content=body, headers={"content-type": kind})
    assert declared.status_code == 413

    def chunks():  # no Content-Length: the server counts what arrives
        for start in range(0, len(body), 64 * 1024):
            yield body[start:start + 64 * 1024]

    streamed = c.post(f"/me/{e1}/complete", content=chunks(), headers={"content-type": kind})
    assert streamed.status_code == 413 and "request too large" in streamed.text
    assert c.post("/lang/en", content=b"x" * (65 * 1024)).status_code == 413  # other posts: 64 kB
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(Submission)).scalar_one() == 0


def test_nothing_is_read_from_a_post_without_an_officers_session(engine, imported):
    c, _ = client(engine)
    body, kind = multipart("no-session", 1024)
    assert c.post("/me/1/complete", content=body, headers={"content-type": kind}).status_code == 403
