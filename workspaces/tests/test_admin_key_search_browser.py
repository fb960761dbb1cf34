"""The key list's search in a real browser: a whole key pasted into it never reaches a URL."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model

from hushmetrics.tests.browser import BROWSER_TEST, SCREENSHOTS, expect
from workspaces.tests.factories import ApiKeyFactory

pytestmark = BROWSER_TEST


@pytest.fixture
def logged_in(live_server, page):
    get_user_model().objects.create_superuser("staff", "staff@example.com", "correct horse 42")
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "staff")
    page.fill("#id_password", "correct horse 42")
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()
    return page


def test_a_pasted_key_is_searched_by_its_prefix_and_its_secret_sent_nowhere(
    live_server, logged_in, workspace
):
    page = logged_in
    key = ApiKeyFactory(workspace=workspace, name="Zapier production")
    secret = key.plaintext[len("sk_live_") + 8 :]
    sent: list[str] = []
    page.on("request", lambda request: sent.append(request.url))

    page.goto(f"{live_server.url}/admin/workspaces/apikey/")
    page.fill("#searchbar", key.plaintext)
    with page.expect_navigation():
        page.press("#searchbar", "Enter")

    query = parse_qs(urlsplit(page.url).query)
    assert query["q"] == [key.plaintext[: len("sk_live_") + 8]]
    assert sent and not [url for url in sent if secret in url]
    expect(page.locator("#result_list")).to_contain_text("Zapier production")
    page.screenshot(path=SCREENSHOTS / "09-key-search-by-prefix.png", full_page=True)


def test_a_workspace_name_longer_than_a_prefix_is_searched_as_typed(
    live_server, logged_in, workspace
):
    page = logged_in
    workspace.name = "Northwind Traders International"
    workspace.save(update_fields=["name"])
    ApiKeyFactory(workspace=workspace, name="Calendly")

    page.goto(f"{live_server.url}/admin/workspaces/apikey/")
    page.fill("#searchbar", "Northwind Traders International")
    with page.expect_navigation():
        page.press("#searchbar", "Enter")

    assert parse_qs(urlsplit(page.url).query)["q"] == ["Northwind Traders International"]
    expect(page.locator("#result_list")).to_contain_text("Calendly")
