"""The portal in a real browser (chromium through Playwright, the app served by uvicorn): the whole
path of one obligation, from the reminder's email to the auditor's download of its evidence, and
the portal's refusals (expired, forged and revoked links, CSRF, a wrong role, another
organisation). ESGTRACK_SCREENSHOTS=1 also writes the main pages as PNGs to docs/screenshots/.

Time is a parameter: the portal's clock is `Site.clock[0]`, planning and delivery get `now`."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Locator, Page, ViewportSize, expect
from sqlmodel import col, select

from config import SHIPPED_ROADMAP
from config.settings import Settings, get_settings
from flows.usecases import audit, staff
from flows.usecases import portal as officers
from flows.usecases.planning import BatchResult, load_directory_for, load_policy_for, plan_batch
from flows.web.app import create_app
from models.core.evidence_rules import Evidence
from models.store.db import session_scope
from models.store.ledger import LogFilter
from models.store.tables import Submission
from notifications import outbox
from tests.conftest import NOW, morning
from tests.notifications.servers import SMTPServer, text_of
from tests.web.conftest import LiveServer

PASSWORD = "a long password 123"
VIEWPORT: ViewportSize = {"width": 1280, "height": 900}
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CAO = "cao"  # Марат Жаксылыков (ru): chief_administrative_officer, executor of E1, E6 and more
E1_TITLE_RU = "Проведение независимого аудита показателей устойчивого развития."
E1_TITLE_EN = "Conduct an independent audit of sustainability indicators."
REPORT = "assurance-report-2026.pdf"
REPORT_BYTES = b"%PDF-1.7\n% independent assurance report on the 2026 sustainability report\n%%EOF\n"


# --- the served portal ----------------------------------------------------------------------------


class _Later:
    """An ASGI app that forwards to one set after the server listens: the portal is made once
    its address (ESGTRACK_BASE_URL) is known."""

    app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)


@dataclass
class Site:
    url: str
    engine: sa.Engine
    settings: Settings
    clock: list[dt.datetime] = field(default_factory=lambda: [NOW + dt.timedelta(hours=1)])

    def link(self, *, org: str = "KT", person: str = CAO, at: dt.datetime = NOW) -> str:
        """The signed link a reminder sent at `at` carries."""
        return officers.link_url(self.settings, load_policy_for(self.settings), org=org, person=person, now=at)

    def occurrence(self, measure: str, period: int, *, org: str = "KT", person: str = CAO) -> int:
        items = officers.my_items(self.engine, org=org, person=person, directory=load_directory_for(self.settings),
                                  policy=load_policy_for(self.settings), lang="en", as_of=NOW.date())
        return next(i.occurrence_id for i in items if (i.measure, i.period) == (measure, period))


@pytest.fixture
def site(imported: sa.Engine, live_server: LiveServer, monkeypatch: pytest.MonkeyPatch) -> Site:
    """The portal on the shipped roadmap (KT), served on 127.0.0.1, with ESGTRACK_BASE_URL set
    to its own address (so messages and its pages link to it), its clock in `site.clock`."""
    later = _Later()
    url = live_server(later)
    monkeypatch.setenv("ESGTRACK_BASE_URL", url)
    get_settings.cache_clear()
    served = Site(url, imported, get_settings())
    later.app = create_app(engine=imported, settings=served.settings, clock=lambda: served.clock[0])
    return served


def small_ca(folder: Path) -> Path:
    """A PEM of one throw-away CA as ESGTRACK_CA_FILE: each SMTP connection then loads it instead
    of the system bundle (~30 ms less per message; the server here speaks no TLS anyway)."""
    import trustme

    path = folder / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(path))
    return path


@contextmanager
def other_context(browser: Browser) -> Iterator[Page]:
    """A page in a browser context of its own (its own cookies): another person at another desk."""
    context = browser.new_context(locale="en-US", viewport=VIEWPORT)
    try:
        yield context.new_page()
    finally:
        context.close()


STAFF_NAMES = {"esg_office": "ESG Office", "auditor": "Internal Auditor"}


def add_staff(engine: sa.Engine, username: str, role: str, *, org: str = "KT") -> None:
    staff.add_user(engine, org=org, username=username, name=STAFF_NAMES[role], role=role, password=PASSWORD,
                   email=None, now=NOW)


def sign_in(page: Page, site: Site, username: str, *, next: str | None = None) -> None:
    page.goto(site.url + "/login" + (f"?next={next}" if next else ""))
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def open_submit_form(page: Page, occurrence_id: int) -> Locator:
    """Unfolds the occurrence's "submit completion" form (any language) and returns it."""
    section = page.locator(f"#o{occurrence_id}")
    section.locator("details:has(form.evidence) > summary").click()
    return section.locator("form.evidence")


def csrf_of(page: Page) -> str:
    """The session's CSRF token, as every form of the page carries it."""
    return page.locator("input[name=csrf]").first.input_value()


def ledger_events(engine: sa.Engine, org: str = "KT") -> list[str]:
    """The events about obligations (not the staff accounts the tests add on the way)."""
    return [row["event"] for row in audit.log(engine, where=LogFilter(org=org)) if row["event"] != "staff_account"]


def submissions(engine: sa.Engine) -> list[tuple[str, int, str]]:
    with session_scope(engine) as session:
        rows = session.exec(select(Submission).order_by(col(Submission.id)))
        return [(s.org, s.occurrence_id, s.state) for s in rows]


def plan(site: Site, day: dt.date, *, claim: bool = True) -> BatchResult:
    settings = get_settings()
    return plan_batch(site.engine, orgs=["KT"], as_of=day, settings=settings,
                      directory=load_directory_for(settings), policy=load_policy_for(settings), now=morning(day),
                      claim=claim)


def deliver(site: Site, day: dt.date) -> outbox.DeliveryReport:
    settings = get_settings()
    return outbox.deliver_pending(site.engine, directory=load_directory_for(settings), settings=settings,
                                  now=morning(day), as_of=day)


def pending_submission(site: Site, occurrence_id: int, *, org: str = "KT") -> int:
    """cao's completion of this occurrence, awaiting the ESG office (made without the browser)."""
    directory = load_directory_for(site.settings)
    sub = officers.submit_completion(site.engine, site.settings, org=org, person=directory.person(CAO),
                                     occurrence_id=occurrence_id, evidence=Evidence(urls=("https://example.kz/r",)),
                                     files=[], directory=directory, policy=load_policy_for(site.settings), now=NOW)
    assert sub.id is not None
    return sub.id


# --- the journey --------------------------------------------------------------------------------


def test_from_the_reminder_to_the_auditors_download(site: Site, smtp: SMTPServer, page: Page, browser: Browser,
                                                    monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A reminder's email → its signed link → "my obligations" in Russian, then English → a real
    file uploaded for E1 → the ESG office accepts it → E1's reminders stop → the auditor sees
    the verified chain with `submitted` and `completed` and downloads the very same bytes."""
    monkeypatch.setenv("ESGTRACK_SMTP_URL", smtp.url())
    monkeypatch.setenv("ESGTRACK_CA_FILE", str(small_ca(tmp_path)))
    get_settings.cache_clear()
    today, later = NOW.date(), dt.date(2026, 12, 1)  # E1 2026 is due 2026-12-31: reminders at 60 and 30 days

    # the daily pass: E1 2026's reminder is claimed and mailed, with cao's signed link
    assert plan(site, today).claimed > 0
    report = deliver(site, today)
    assert report.problems == [] and report.counts.get("sent", 0) > 0
    mail, = smtp.to("cao@example.kz")
    body = text_of(mail)
    assert E1_TITLE_RU in body
    link = re.search(re.escape(site.url) + r"/o/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+", body)
    assert link is not None, body
    e1 = site.occurrence("E1", 2026)
    before = plan(site, later, claim=False)  # what the next reminder day would bring
    assert any(i.occurrence_id == e1 and i.recipient == CAO for i in before.items)

    # the officer opens the link: their obligations, in their language (ru)
    answer = page.goto(link.group(0))
    assert answer is not None and answer.status == 200 and page.url == site.url + "/me"  # the token left the bar
    expect(page.get_by_role("heading", level=1)).to_have_text("Мои обязательства")
    expect(page.locator("html")).to_have_attribute("lang", "ru")
    item = page.locator(f"#o{e1}")
    expect(item.get_by_role("heading", level=2)).to_have_text(f"E1 · 2026 — {E1_TITLE_RU}")
    page.locator("nav.langs").get_by_role("link", name="en", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My obligations")
    expect(item.get_by_role("heading", level=2)).to_have_text(f"E1 · 2026 — {E1_TITLE_EN}")
    expect(page.get_by_text("Hello, Марат Жаксылыков")).to_be_visible()

    # … and sends the assurance report
    upload = tmp_path / REPORT
    upload.write_bytes(REPORT_BYTES)
    form = open_submit_form(page, e1)
    form.locator("input[name=files]").set_input_files(upload)
    form.get_by_role("button", name="Submit", exact=True).click()
    expect(page).to_have_url(site.url + "/me?done=submitted")
    expect(page.get_by_role("status")).to_have_text("Thank you. The ESG office will review your submission.")
    expect(item.locator(".status.pending")).to_have_text("Awaiting the ESG office's review")
    expect(item.locator("form.evidence")).to_have_count(0)
    assert ledger_events(site.engine)[-1:] == ["submitted"]

    # the ESG office, at its own desk, accepts it
    site.clock[0] = NOW + dt.timedelta(hours=2)
    add_staff(site.engine, "office", "esg_office")
    with other_context(browser) as office:
        sign_in(office, site, "office", next="/review")
        expect(office).to_have_url(site.url + "/review")
        queued = office.locator("section.item[data-measure=E1]")
        expect(queued).to_have_count(1)
        expect(queued.get_by_role("link", name=REPORT)).to_be_visible()
        expect(queued).to_contain_text(f"{len(REPORT_BYTES)} B")
        queued.get_by_role("button", name="Accept").click()
        expect(office).to_have_url(site.url + "/review?done=accepted")
        expect(office.get_by_role("status")).to_have_text("Accepted: recorded in the ledger; reminders for it stop.")
        expect(office.locator("section.item")).to_have_count(0)
    assert ledger_events(site.engine)[-2:] == ["submitted", "completed"]

    # the officer's page no longer lists it
    page.reload()
    expect(page.get_by_role("heading", level=1)).to_have_text("My obligations")
    expect(page.locator(f"#o{e1}")).to_have_count(0)

    # reminders stop: the next reminder day plans nothing for E1 2026, and mails nothing of it
    after = plan(site, later, claim=False)
    assert after.items and not [i for i in after.items if i.occurrence_id == e1]
    assert plan(site, later).claimed > 0
    assert deliver(site, later).problems == []
    earlier, then = smtp.to("cao@example.kz")  # cao's other obligations still remind
    assert re.search(r"\bE1\b", earlier["Subject"])
    assert not re.search(r"\bE1\b", then["Subject"]) and E1_TITLE_RU not in text_of(then)

    # the auditor: the chain verifies, both entries are there, the evidence downloads unchanged
    site.clock[0] = morning(later) + dt.timedelta(hours=1)
    add_staff(site.engine, "auditor", "auditor")
    with other_context(browser) as auditor:
        sign_in(auditor, site, "auditor")
        expect(auditor).to_have_url(site.url + "/ledger")
        count = len(audit.log(site.engine, where=LogFilter(org="KT")))  # the whole chain, accounts' entries too
        expect(auditor.locator("#chain .ok")).to_contain_text(f"chain verified: {count} entries")
        submitted = auditor.locator("tr[data-event=submitted]")
        completed = auditor.locator("tr[data-event=completed]")
        expect(submitted).to_have_count(1)
        expect(completed).to_have_count(1)
        expect(submitted).to_contain_text("E1")
        expect(completed).to_contain_text("E1")
        expect(completed).to_contain_text("ESG Office (office, esg_office)")
        completed.get_by_role("link").click()
        expect(auditor.get_by_role("heading", level=1)).to_contain_text("— completed")
        with auditor.expect_download() as downloading:
            auditor.get_by_role("link", name="Download").click()
        download = downloading.value
        assert download.suggested_filename == REPORT
        assert Path(download.path()).read_bytes() == REPORT_BYTES


# --- links that do not open ------------------------------------------------------------------------

sqlite_only = pytest.mark.backends("sqlite")  # the portal's logic, not the database's


@sqlite_only
def test_an_expired_link_shows_the_expired_page_and_no_obligations(site: Site, page: Page) -> None:
    link = site.link(at=NOW)
    page.goto(link)
    expect(page.locator("section.item").first).to_be_visible()
    site.clock[0] = NOW + dt.timedelta(days=31)  # links hold 30 days (config/policy.yaml)
    # the session the link opened ends with it
    answer = page.reload()
    assert answer is not None and answer.status == 410
    expect(page.get_by_role("alert")).to_have_text("link expired")
    expect(page.locator("section.item")).to_have_count(0)
    # and the link itself no longer opens
    answer = page.goto(link)
    assert answer is not None and answer.status == 410
    expect(page.get_by_role("heading", level=1)).to_have_text("This link does not open")
    expect(page.locator("[data-reason=expired]")).to_have_text(
        "This link has expired. Ask the ESG office for a new one, or open the link in your next reminder.")
    expect(page.locator("section.item")).to_have_count(0)
    answer = page.goto(site.url + "/me")
    assert answer is not None and answer.status == 403


@sqlite_only
def test_a_forged_link_is_refused(site: Site, page: Page) -> None:
    token = site.link().rsplit("/", 1)[1]
    body, mac = token.split(".")
    at = len(mac) // 2
    forged = f"{body}.{mac[:at]}{'B' if mac[at] == 'A' else 'A'}{mac[at + 1:]}"  # one character of the signature
    answer = page.goto(f"{site.url}/o/{forged}")
    assert answer is not None and answer.status == 403
    expect(page.locator("[data-reason=forged]")).to_have_text("This link is not valid.")
    expect(page.locator("section.item")).to_have_count(0)
    answer = page.goto(site.url + "/me")  # no session was opened
    assert answer is not None and answer.status == 403
    expect(page.locator("section.item")).to_have_count(0)


@sqlite_only
def test_a_revoked_link_is_refused_and_ends_its_session(site: Site, page: Page) -> None:
    link = site.link(at=NOW)
    page.goto(link)
    expect(page.locator("section.item").first).to_be_visible()
    site.clock[0] = NOW + dt.timedelta(hours=2)
    officers.revoke_links(site.engine, org="KT", person=CAO, by="ESG office", reason="mailed to a wrong address",
                          now=site.clock[0])
    answer = page.reload()
    assert answer is not None and answer.status == 403
    expect(page.get_by_role("alert")).to_have_text("link revoked")
    expect(page.locator("section.item")).to_have_count(0)
    answer = page.goto(link)
    assert answer is not None and answer.status == 403
    expect(page.locator("[data-reason=revoked]")).to_have_text("This link was revoked. Please contact the ESG office.")
    # a link issued after the revocation opens
    site.clock[0] = NOW + dt.timedelta(hours=3)
    answer = page.goto(site.link(at=site.clock[0]))
    assert answer is not None and answer.status == 200
    expect(page.locator("section.item").first).to_be_visible()


# --- forms and roles -------------------------------------------------------------------------------


@sqlite_only
def test_a_field_error_is_shown_at_its_field_and_the_language_can_still_change(site: Site, page: Page) -> None:
    page.goto(site.link())
    e6 = site.occurrence("E6", 2025)  # completed by an order: its number, and a date not after today
    form = open_submit_form(page, e6)
    form.locator("input[name=ref]").fill("45-п")
    form.locator("input[name=date]").fill("2027-01-15")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        form.locator("button[type=submit]").click()
    assert posted.value.status == 400
    item = page.locator(f"#o{e6}")
    expect(item.locator(".field-error[data-field=date]")).to_have_text(  # cao reads Russian: the hint, then the check
        "Укажите дату документа (ГГГГ-ММ-ДД): the document is dated after today (2026-11-16)")
    expect(item.locator("input[name=date]")).to_have_attribute("aria-invalid", "true")
    expect(item.locator("input[name=ref]")).to_have_value("45-п")  # what was typed is kept
    expect(item.locator("input[name=date]")).to_have_value("2027-01-15")
    assert "submitted" not in ledger_events(site.engine) and submissions(site.engine) == []
    # the page is the answer to a POST: its language links lead back to /me, not to the POST's address
    page.locator("nav.langs").get_by_role("link", name="en", exact=True).click()
    expect(page).to_have_url(site.url + "/me")
    expect(page.get_by_role("heading", level=1)).to_have_text("My obligations")


@sqlite_only
def test_a_form_without_its_csrf_token_is_refused_and_records_nothing(site: Site, page: Page, tmp_path: Path
                                                                      ) -> None:
    page.goto(site.link())
    e1 = site.occurrence("E1", 2026)
    before = ledger_events(site.engine)
    upload = tmp_path / REPORT
    upload.write_bytes(REPORT_BYTES)
    # the page's own form, its token changed in the browser
    form = open_submit_form(page, e1)
    form.locator("input[name=files]").set_input_files(upload)
    form.locator("input[name=csrf]").evaluate("input => { input.value = 'not-the-sessions-token' }")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        form.locator("button[type=submit]").click()
    assert posted.value.status == 403
    expect(page.get_by_role("alert")).to_have_text("csrf")
    # posts from the signed-in context (its session cookie) with no token at all
    answer = page.request.post(f"{site.url}/me/{e1}/complete", multipart={"url": "https://example.kz/r"})
    assert answer.status == 403
    answer = page.request.post(f"{site.url}/me/{e1}/reschedule", form={"to": "2027-03-01", "reason": "audit late"})
    assert answer.status == 403
    assert ledger_events(site.engine) == before and submissions(site.engine) == []
    # the token was all that was missing
    page.goto(site.url + "/me")
    answer = page.request.post(f"{site.url}/me/{e1}/complete",
                               multipart={"csrf": csrf_of(page), "url": "https://example.kz/r"})
    assert answer.ok and answer.url == site.url + "/me?done=submitted"
    assert ledger_events(site.engine) == [*before, "submitted"]


@sqlite_only
def test_an_auditor_can_neither_open_the_review_queue_nor_accept(site: Site, page: Page) -> None:
    e1 = site.occurrence("E1", 2026)
    sub = pending_submission(site, e1)
    add_staff(site.engine, "aud", "auditor")
    sign_in(page, site, "aud")
    expect(page).to_have_url(site.url + "/ledger")
    expect(page.get_by_role("navigation", name="main").get_by_role("link", name="Review")).to_have_count(0)
    answer = page.goto(site.url + "/review")
    assert answer is not None and answer.status == 403
    expect(page.get_by_role("alert")).to_have_text("this page is for esg_office")
    expect(page.locator("section.item")).to_have_count(0)
    token = csrf_of(page)  # a valid token of the auditor's session: the role alone refuses
    assert page.request.post(f"{site.url}/review/{sub}/accept", form={"csrf": token}).status == 403
    assert page.request.post(f"{site.url}/review/{sub}/return", form={"csrf": token, "reason": "no"}).status == 403
    assert submissions(site.engine) == [("KT", e1, "pending")]
    assert "completed" not in ledger_events(site.engine)


@sqlite_only
def test_another_organisation_sees_and_touches_nothing_of_kt(site: Site, page: Page, browser: Browser) -> None:
    from flows.usecases import roadmap as roadmaps
    from models.core.normalised import load_roadmap

    with session_scope(site.engine) as s:
        roadmaps.import_roadmap(s, org="XX", loaded=load_roadmap(SHIPPED_ROADMAP), now=NOW)
    e1 = site.occurrence("E1", 2026)
    sub = pending_submission(site, e1)
    kt_events, xx_events = ledger_events(site.engine), ledger_events(site.engine, "XX")

    # XX's ESG office: an empty queue, and KT's submission is not theirs to decide
    add_staff(site.engine, "xoffice", "esg_office", org="XX")
    sign_in(page, site, "xoffice", next="/review")
    expect(page).to_have_url(site.url + "/review")
    expect(page.get_by_text("Nothing awaits review.")).to_be_visible()
    expect(page.locator(f"#s{sub}")).to_have_count(0)
    token = csrf_of(page)
    decisions: list[tuple[str, dict[str, str | float | bool]]] = [
        ("accept", {"csrf": token}), ("return", {"csrf": token, "reason": "not ours"})]
    for action, fields in decisions:
        answer = page.request.post(f"{site.url}/review/{sub}/{action}", form=fields)
        assert answer.status in (400, 404), (action, answer.status)
        assert "no such submission" in answer.text()

    # XX's officer (a link for XX): KT's occurrence is not theirs to submit
    with other_context(browser) as officer:
        officer.goto(site.link(org="XX"))
        x_e1 = site.occurrence("E1", 2026, org="XX")
        assert x_e1 != e1
        expect(officer.locator(f"#o{x_e1}")).to_be_visible()
        expect(officer.locator(f"#o{e1}")).to_have_count(0)
        form = open_submit_form(officer, x_e1)
        form.evaluate("(f, id) => { f.action = '/me/' + id + '/complete' }", e1)
        form.locator("input[name=url]").fill("https://example.kz/r")
        with officer.expect_response(lambda r: r.request.method == "POST") as posted:
            form.locator("button[type=submit]").click()
        assert posted.value.status == 400
        expect(officer.get_by_text("no such obligation of yours")).to_be_visible()

    assert submissions(site.engine) == [("KT", e1, "pending")]
    assert ledger_events(site.engine) == kt_events and ledger_events(site.engine, "XX") == xx_events


# --- screenshots for the documentation -----------------------------------------------------------


def shot(page: Page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=False)


def shot_if_served(page: Page, url: str, name: str) -> None:
    """A page that may not exist yet (the dashboard is being written): shot only when it answers 200."""
    answer = page.goto(url)
    if answer is not None and answer.status == 200:
        shot(page, name)


@sqlite_only
@pytest.mark.skipif(os.environ.get("ESGTRACK_SCREENSHOTS") != "1",
                    reason="ESGTRACK_SCREENSHOTS=1 writes the pages' screenshots to docs/screenshots/")
def test_screenshots_of_the_main_pages(site: Site, page: Page, browser: Browser, tmp_path: Path) -> None:
    """docs/screenshots/*.png at 1280×900: the officer's obligations and a field-level error, the
    review queue, the dashboard and a measure, the auditor's ledger and one entry."""
    e1, e6, e2 = site.occurrence("E1", 2026), site.occurrence("E6", 2025), site.occurrence("E2", 2026)
    upload = tmp_path / REPORT
    upload.write_bytes(REPORT_BYTES)

    page.goto(site.link())
    page.locator("nav.langs").get_by_role("link", name="en", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("My obligations")
    shot(page, "officer-my-obligations.png")

    form = open_submit_form(page, e6)  # an order: its number, and a date not after today
    form.get_by_label("Document number").fill("45-п")
    form.get_by_label("Document date").fill("2027-01-15")
    form.get_by_role("button", name="Submit", exact=True).click()
    error = page.locator(f"#o{e6} .field-error[data-field=date]")
    expect(error).to_have_text("the document is dated after today (2026-11-16)")
    page.locator(f"#o{e6}").scroll_into_view_if_needed()
    shot(page, "officer-submit-field-error.png")

    form = page.locator(f"#o{e6} form.evidence")
    form.get_by_label("Document date").fill("2026-11-02")
    form.get_by_role("button", name="Submit", exact=True).click()
    expect(page).to_have_url(site.url + "/me?done=submitted")
    form = open_submit_form(page, e1)
    form.locator("input[name=files]").set_input_files(upload)
    form.get_by_label("Note").fill("Assurance by the external auditor, limited scope.")
    form.get_by_role("button", name="Submit", exact=True).click()
    expect(page).to_have_url(site.url + "/me?done=submitted")
    asking = page.locator(f"#o{e2}")
    asking.locator("details:has(form.reschedule) > summary").click()
    asking.get_by_label("New deadline").fill("2027-02-15")
    asking.get_by_label("Reason").fill("the report's data arrive in January")
    asking.get_by_role("button", name="Ask", exact=True).click()
    expect(page).to_have_url(site.url + "/me?done=reschedule")

    site.clock[0] = NOW + dt.timedelta(hours=2)
    add_staff(site.engine, "office", "esg_office")
    with other_context(browser) as office:
        sign_in(office, site, "office", next="/review")
        expect(office.locator("section.item")).to_have_count(3)
        shot(office, "office-review-queue.png")
        for measure in ("E1", "E6"):
            office.locator(f"section.item[data-measure={measure}]").get_by_role("button", name="Accept").click()
            expect(office.locator(f"section.item[data-measure={measure}]")).to_have_count(0)
        shot_if_served(office, site.url + "/dashboard", "office-dashboard.png")
        shot_if_served(office, site.url + "/measures/E1", "office-measure.png")

    add_staff(site.engine, "auditor", "auditor")
    with other_context(browser) as auditor:
        sign_in(auditor, site, "auditor")
        expect(auditor.locator("#chain .ok")).to_contain_text("chain verified")
        shot(auditor, "auditor-ledger.png")
        auditor.locator("tr[data-event=completed]").filter(has_text="E1").get_by_role("link").click()
        expect(auditor.get_by_role("heading", level=1)).to_contain_text("— completed")
        shot(auditor, "auditor-ledger-entry.png")
