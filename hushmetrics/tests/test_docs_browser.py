"""The API docs in a real browser: "Try it out" on /v1/docs/ calls the server it came from.

The browser: `hushmetrics/tests/browser.py`.
"""

import json

from hushmetrics.tests.browser import BROWSER_TEST, SCREENSHOTS, expect

pytestmark = BROWSER_TEST


def test_try_it_out_on_the_docs_page_gets_the_health_answer(live_server, page):
    page.goto(f"{live_server.url}/v1/docs/")
    # The server Swagger UI offers is the live server's own address, port and all.
    expect(page.locator(".servers select")).to_have_value(live_server.url)

    health = page.locator(
        ".opblock-get", has=page.locator(".opblock-summary-path", has_text="/v1/health")
    )
    health.locator(".opblock-summary").click()
    health.get_by_role("button", name="Try it out").click()
    health.get_by_role("button", name="Execute").click()

    response = health.locator(".live-responses-table .response").first
    expect(response.locator(".response-col_status")).to_have_text("200")
    expect(health.locator(".request-url pre")).to_have_text(f"{live_server.url}/v1/health")
    body = response.locator(".response-col_description pre.microlight").first
    expect(body).to_be_visible()
    assert json.loads(body.inner_text()) == {"status": "ok"}
    health.scroll_into_view_if_needed()
    page.screenshot(path=SCREENSHOTS / "07-docs-try-it-out-health.png", full_page=True)


def test_the_schema_opens_in_the_browser_instead_of_downloading(live_server, page):
    # A download would make goto() fail ("Download is starting").
    response = page.goto(f"{live_server.url}/v1/schema/")
    assert response.status == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    expect(page.locator("body")).to_contain_text("openapi: 3.0.3")
    expect(page.locator("body")).to_contain_text(f"- url: {live_server.url}")
    page.screenshot(path=SCREENSHOTS / "08-schema-in-the-browser.png")
