"""The browser-test harness itself: an inline app served by live_server, opened in page."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from playwright.sync_api import Page


def test_page_shows_a_served_app(live_server, page: Page) -> None:
    app = FastAPI()

    @app.get("/", response_class=HTMLResponse)
    def home() -> str:
        return '<!doctype html><title>smoke</title><h1>ok</h1><form method="post"><input name="q"></form>'

    base = live_server(app)
    page.goto(base + "/")
    assert page.get_by_role("heading", level=1).inner_text() == "ok"
    assert page.locator("form input[name=q]").count() == 1
