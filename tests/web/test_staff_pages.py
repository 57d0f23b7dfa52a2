"""Staff pages over HTTP: signing in (throttled), roles, the review queue (accept, return) scoped
to the organisation, the administrator's page."""

import re

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from config import SHIPPED_ROADMAP
from config.settings import get_settings
from flows.usecases import portal, staff
from flows.usecases import roadmap as roadmaps
from flows.usecases.planning import load_directory_for, load_policy_for
from flows.web.app import create_app
from models.core.evidence_rules import Evidence
from models.core.normalised import load_roadmap
from models.store.db import session_scope
from models.store.tables import OccurrenceRow, Submission
from tests.conftest import NOW

PASSWORD = "a long password 123"


def csrf(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]+)"', html).group(1)


def signed_in(engine, username: str, role: str, org: str = "KT") -> TestClient:
    staff.add_user(engine, org=org, username=username, name=username.title(), role=role, password=PASSWORD,
                   email=None, now=NOW)
    client = TestClient(create_app(engine=engine, clock=lambda: NOW), base_url="https://testserver")
    answer = client.post("/login", data={"csrf": csrf(client.get("/login").text), "username": username,
                                         "password": PASSWORD, "next": "/me-not-for-staff"}, follow_redirects=False)
    assert answer.status_code == 303
    return client


def a_submission(engine, org: str = "KT") -> Submission:
    settings = get_settings()
    directory, policy = load_directory_for(settings), load_policy_for(settings)
    with engine.connect() as c:
        occ = c.execute(sa.text("SELECT o.id FROM occurrence o JOIN measure m ON m.id = o.measure_id WHERE "
                                "m.code = 'E1' AND o.period = 2026 AND o.org = :org"), {"org": org}).scalar_one()
    return portal.submit_completion(engine, settings, org=org, person=directory.person("cao"), occurrence_id=occ,
                                    evidence=Evidence(urls=("https://example.kz/e1-2026",)), files=[],
                                    directory=directory, policy=policy, now=NOW)


def status_of(engine, occurrence_id: int) -> str:
    with engine.connect() as c:
        return c.execute(sa.select(OccurrenceRow.status).where(OccurrenceRow.id == occurrence_id)).scalar_one()


def test_wrong_passwords_are_refused_then_throttled(engine, imported):
    staff.add_user(engine, org="KT", username="office", name="Office", role="esg_office", password=PASSWORD,
                   email=None, now=NOW)
    client = TestClient(create_app(engine=engine, clock=lambda: NOW))
    token = csrf(client.get("/login").text)
    codes = [client.post("/login", data={"csrf": token, "username": "office", "password": "guess"}).status_code
             for _ in range(staff.PER_USER + 1)]
    assert codes == [401] * staff.PER_USER + [429]
    right = client.post("/login", data={"csrf": token, "username": "office", "password": PASSWORD})
    assert right.status_code == 429 and "Too many failed attempts" in right.text
    assert client.post("/login", data={"username": "office", "password": PASSWORD}).status_code == 403  # no CSRF


def test_the_esg_office_accepts_and_the_occurrence_is_completed(engine, imported):
    sub = a_submission(engine)
    office = signed_in(engine, "office", "esg_office")
    queue = office.get("/review")
    assert queue.status_code == 200 and f'id="s{sub.id}"' in queue.text and "https://example.kz/e1-2026" in queue.text
    done = office.post(f"/review/{sub.id}/accept", data={"csrf": csrf(queue.text)})
    assert done.status_code == 200 and "Accepted" in done.text and f'id="s{sub.id}"' not in done.text
    assert status_of(engine, sub.occurrence_id) == "done"


def test_a_return_needs_a_reason(engine, imported):
    sub = a_submission(engine)
    office = signed_in(engine, "office", "esg_office")
    token = csrf(office.get("/review").text)
    assert office.post(f"/review/{sub.id}/return", data={"csrf": token, "reason": " "}).status_code == 400
    back = office.post(f"/review/{sub.id}/return", data={"csrf": token, "reason": "unsigned"})
    assert back.status_code == 200 and "Returned" in back.text
    assert status_of(engine, sub.occurrence_id) == "open"


@pytest.mark.parametrize(("method", "path"), [("get", "/review"), ("post", "/review/1/accept"),
                                              ("post", "/review/1/return"), ("get", "/admin")])
def test_auditors_cannot_review_or_administer(engine, imported, method, path):
    auditor = signed_in(engine, "audit", "auditor")
    token = csrf(auditor.get("/login").text)
    answer = getattr(auditor, method)(path, **({"data": {"csrf": token}} if method == "post" else {}))
    assert answer.status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(engine, imported):
    client = TestClient(create_app(engine=engine, clock=lambda: NOW))
    answer = client.get("/review", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login?next=/review"


def test_another_organisations_office_sees_and_decides_nothing_of_ours(engine, imported):
    with session_scope(engine) as s:
        roadmaps.import_roadmap(s, org="XX", loaded=load_roadmap(SHIPPED_ROADMAP), now=NOW)
    sub = a_submission(engine)
    theirs = signed_in(engine, "xx-office", "esg_office", org="XX")
    queue = theirs.get("/review")
    assert f'id="s{sub.id}"' not in queue.text and "Nothing awaits review" in queue.text
    refused = theirs.post(f"/review/{sub.id}/accept", data={"csrf": csrf(queue.text)})
    assert refused.status_code == 400 and "no such submission" in refused.text
    assert status_of(engine, sub.occurrence_id) == "open"


def test_the_administrator_disables_accounts_and_revokes_links(engine, imported):
    with session_scope(engine) as s:
        roadmaps.import_roadmap(s, org="XX", loaded=load_roadmap(SHIPPED_ROADMAP), now=NOW)
    admin = signed_in(engine, "admin", "admin")
    staff.add_user(engine, org="KT", username="office", name="Office", role="esg_office", password=PASSWORD,
                   email=None, now=NOW)
    staff.add_user(engine, org="XX", username="other", name="Other", role="esg_office", password=PASSWORD,
                   email=None, now=NOW)
    page = admin.get("/admin")
    assert 'data-user="office"' in page.text and 'data-user="other"' not in page.text
    token = csrf(page.text)
    assert admin.post("/admin/users/other/disable", data={"csrf": token}).status_code == 404
    assert admin.post("/admin/users/office/disable", data={"csrf": token}).status_code == 200
    with pytest.raises(staff.SignInError):
        staff.sign_in(engine, username="office", password=PASSWORD, client="x", now=NOW)
    url = portal.link_url(get_settings(), load_policy_for(get_settings()), org="KT", person="cao", now=NOW)
    revoked = admin.post("/admin/links/revoke", data={"csrf": token, "person": "cao", "reason": "left"})
    assert revoked.status_code == 200 and "Revoked" in revoked.text
    officer = TestClient(create_app(engine=engine, clock=lambda: NOW))
    assert officer.get(url.split("8000", 1)[1], follow_redirects=False).status_code == 403


def test_every_staff_form_post_needs_the_csrf_token(engine, imported):
    """Each POST route of the app (the officer's are tested with an officer's session in
    test_officer_pages.py) refuses a post without the session's token."""
    office = signed_in(engine, "office", "esg_office")
    staff.add_user(engine, org="KT", username="audit1", name="Audit", role="auditor", password=PASSWORD,
                   email=None, now=NOW)
    values = {"submission_id": "1", "username": "audit1", "action": "disable"}
    from flows.web import admin, auditor, dashboard, sso
    from flows.web import office as office_routes

    posts = [route.path for module in (office_routes, admin, auditor, dashboard, sso)
             for route in module.router.routes if "POST" in getattr(route, "methods", ())]
    assert {"/login", "/logout", "/review/{submission_id}/accept", "/admin/links/revoke", "/ledger/pack"} <= set(posts)
    for path in posts:
        target = re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)
        answer = office.post(target, data={"csrf": "not-the-token", "reason": "x", "person": "cao", "period": "2025"})
        assert answer.status_code == 403, path
    assert office.get("/review").status_code == 200  # still signed in: /logout refused too
    assert [a.active for a in staff.list_users(engine, org="KT") if a.username == "audit1"] == [True]
