"""SPEC §8 in a real browser: headless Chromium (Playwright) submits real HTML forms served
from a second local origin (a tiny http.server on its own port) to the live server.

Urlencoded and multipart forms, with and without `_next` (same host, a sibling host the
workspace allows, relative, foreign), land where §8 says with the lead stored; a reload of the
thank-you page posts nothing; a wrong workspace, an empty form and a 429 get their HTML error
pages. Screenshots (at 1680 and 390 px wide) go to artifacts/screenshots/.
"""

import functools
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from hushmetrics.pages import ERROR_PAGES
from hushmetrics.tests.browser import BROWSER_TEST, SCREENSHOTS, expect
from leads.models import Lead
from workspaces.services import workspace_create

pytestmark = BROWSER_TEST
PHONE = {"width": 390, "height": 844}


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


@pytest.fixture
def site(tmp_path: Path) -> Iterator["FormSite"]:
    """The site owner's website: static pages on 127.0.0.1 (and `localhost`, a sibling host
    name of the same server), on a port of its own."""
    server = ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(tmp_path))
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield FormSite(tmp_path, server.server_address[1])
    server.shutdown()
    server.server_close()


class FormSite:
    def __init__(self, root: Path, port: int) -> None:
        self.root = root
        self.port = port
        self.origin = f"http://127.0.0.1:{port}"
        self.sibling = f"http://localhost:{port}"
        (root / "thanks.html").write_text(_page("Site thanks", "<h1>Thanks from the site</h1>"))
        (root / "forms").mkdir()
        (root / "forms" / "thanks.html").write_text(_page("Forms thanks", "<h1>Forms thanks</h1>"))

    def form(
        self,
        name: str,
        action: str,
        *,
        next_url: str | None = None,
        multipart: bool = False,
        fields: bool = True,
        head: str = "",
    ) -> str:
        """Write a form page; its URL on the site."""
        enctype = ' enctype="multipart/form-data"' if multipart else ""
        inputs = [
            '<label for="name">Name</label><input id="name" name="name">',
            '<label for="email">Email</label><input id="email" name="email" type="email">',
        ]
        if not fields:
            inputs = []
        if multipart and fields:
            inputs.append('<label for="cv">CV</label><input id="cv" name="cv" type="file">')
        if next_url is not None:
            inputs.append(f'<input type="hidden" name="_next" value="{next_url}">')
        inputs.append('<input type="text" name="_gotcha" hidden>')
        body = (
            f'<form action="{action}" method="post"{enctype}>{"".join(inputs)}'
            '<button type="submit">Send</button></form>'
        )
        (self.root / name).parent.mkdir(parents=True, exist_ok=True)
        (self.root / name).write_text(_page("Contact", body, head=head))
        return f"{self.origin}/{name}"


def _page(title: str, body: str, *, head: str = "") -> str:
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8">{head}'
        f"<title>{title}</title></head><body>{body}</body></html>"
    )


@pytest.fixture
def browser(page: Any) -> Iterator[Any]:
    """The page, failing the test on any Content-Security-Policy violation of our pages."""
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    yield page
    assert violations == []


@pytest.fixture
def shop(site: FormSite) -> Any:
    return workspace_create(name="Acme Shop", allowed_redirect_hosts="localhost")


def submit(page: Any, form_url: str, *, name: str = "Ana Silva", file: Path | None = None) -> Any:
    """Open the form, fill it in, send it; the response to the POST (after the redirect
    the browser followed, `page.url` is where it landed)."""
    page.goto(form_url)
    if page.locator("#name").count():
        page.fill("#name", name)
        page.fill("#email", f"{name.split()[0].lower()}@example.com")
    if file is not None:
        page.set_input_files("#cv", str(file))
    with page.expect_response(
        lambda response: response.request.method == "POST" and "/v1/webhook/" in response.url
    ) as posted:
        page.click("button[type=submit]")
    page.wait_for_load_state()
    return posted.value


def webhook(live_server: Any, workspace: Any) -> str:
    return f"{live_server.url}/v1/webhook/{workspace.id}"


def test_a_form_without_next_lands_on_our_thank_you_page_and_a_reload_posts_nothing(
    live_server, browser, site, shop
):
    form = site.form("contact.html", webhook(live_server, shop))

    posted = submit(browser, form)

    assert posted.status == 303
    assert (
        browser.url
        == f"{webhook(live_server, shop)}/thanks?back=http%3A%2F%2F127.0.0.1%3A{site.port}%2F"
    )
    expect(browser.locator("h1")).to_have_text("Thank you")
    expect(browser.locator("main")).to_contain_text("Your message was sent to Acme Shop.")
    expect(browser.get_by_role("link", name="Back to 127.0.0.1")).to_have_attribute(
        "href", f"{site.origin}/"
    )
    assert "Ana" not in browser.url and "example.com" not in browser.url
    assert "Ana" not in browser.content()
    lead = Lead.objects.get()
    assert (lead.name, lead.email, lead.workspace_id) == ("Ana Silva", "ana@example.com", shop.id)
    browser.screenshot(path=SCREENSHOTS / "20-thank-you.png", full_page=True)

    browser.reload()
    browser.reload()
    expect(browser.locator("h1")).to_have_text("Thank you")
    assert Lead.objects.count() == 1

    browser.set_viewport_size(PHONE)
    browser.screenshot(path=SCREENSHOTS / "21-thank-you-390px.png", full_page=True)
    assert browser.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.parametrize("multipart", [False, True], ids=["urlencoded", "multipart"])
def test_next_on_the_same_host_a_sibling_host_relative_and_foreign(
    live_server, browser, site, shop, tmp_path, multipart
):
    action = webhook(live_server, shop)
    upload = tmp_path / "cv.txt"
    upload.write_text("my CV")
    file = upload if multipart else None
    cases = [
        # (the form's _next, where the browser lands)
        (f"{site.origin}/thanks.html", f"{site.origin}/thanks.html"),
        (f"{site.sibling}/thanks.html", f"{site.sibling}/thanks.html"),  # allowed: localhost
        ("/thanks.html", f"{site.origin}/thanks.html"),
        (
            "https://foreign.example/phish",
            f"{action}/thanks?back=http%3A%2F%2F127.0.0.1%3A{site.port}%2F",
        ),
    ]
    for index, (next_url, lands_on) in enumerate(cases):
        form = site.form(f"form-{index}.html", action, next_url=next_url, multipart=multipart)
        posted = submit(browser, form, name=f"Visitor {index}", file=file)
        assert posted.status == 303, next_url
        assert browser.url == lands_on, next_url
        assert Lead.objects.filter(name=f"Visitor {index}", workspace=shop).count() == 1
    assert Lead.objects.count() == len(cases)
    expect(browser.locator("h1")).to_have_text("Thank you")  # the foreign one, last


def test_a_relative_next_resolves_against_the_full_page_url_when_the_page_sends_it(
    live_server, browser, site, shop
):
    # With the default referrer policy a browser tells another site only the origin; a page
    # may send its full URL, and then `thanks.html` is next to the form.
    form = site.form(
        "forms/contact.html",
        webhook(live_server, shop),
        next_url="thanks.html",
        head='<meta name="referrer" content="unsafe-url">',
    )
    submit(browser, form)
    assert browser.url == f"{site.origin}/forms/thanks.html"
    expect(browser.locator("h1")).to_have_text("Forms thanks")
    assert Lead.objects.get().page_url == form


def test_the_workspace_thank_you_url_is_where_a_form_without_next_lands(live_server, browser, site):
    workspace = workspace_create(name="Merci Co", thank_you_url=f"{site.sibling}/thanks.html")
    submit(browser, site.form("contact.html", webhook(live_server, workspace)))
    assert browser.url == f"{site.sibling}/thanks.html"
    assert Lead.objects.get().workspace_id == workspace.id


def test_a_wrong_workspace_gets_a_404_page_with_a_way_back(live_server, browser, site, shop):
    form = site.form(
        "typo.html", f"{live_server.url}/v1/webhook/4f6a0b3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b"
    )
    posted = submit(browser, form)
    assert posted.status == 404
    assert posted.headers["content-type"] == "text/html; charset=utf-8"
    expect(browser.locator("h1")).to_have_text(ERROR_PAGES[404][0])
    expect(browser.locator("main")).to_contain_text(ERROR_PAGES[404][1])
    browser.screenshot(path=SCREENSHOTS / "22-error-404.png", full_page=True)
    browser.set_viewport_size(PHONE)
    browser.screenshot(path=SCREENSHOTS / "23-error-404-390px.png", full_page=True)
    assert browser.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    browser.get_by_role("link", name="Back to 127.0.0.1").click()
    assert browser.url == f"{site.origin}/"
    assert Lead.objects.count() == 0


def test_an_empty_form_gets_a_400_page(live_server, browser, site, shop):
    form = site.form(
        "empty.html", webhook(live_server, shop), next_url="/thanks.html", fields=False
    )
    posted = submit(browser, form)
    assert posted.status == 400
    expect(browser.locator("main")).to_contain_text(ERROR_PAGES[400][1])
    assert Lead.objects.count() == 0


def test_past_the_rate_limit_a_429_page(live_server, browser, site, shop, settings):
    settings.RATE_LIMIT_WEBHOOK = "1/m"
    form = site.form("contact.html", webhook(live_server, shop))
    assert submit(browser, form, name="First One").status == 303
    posted = submit(browser, form, name="Second One")
    assert posted.status == 429
    assert int(posted.headers["retry-after"]) >= 1
    expect(browser.locator("h1")).to_have_text(ERROR_PAGES[429][0])
    expect(browser.locator("main")).to_contain_text(ERROR_PAGES[429][1])
    browser.screenshot(path=SCREENSHOTS / "24-error-429.png", full_page=True)
    assert list(Lead.objects.values_list("name", flat=True)) == ["First One"]


def test_opening_the_webhook_url_shows_it_is_connected_and_copies(live_server, browser, shop):
    url = webhook(live_server, shop)
    browser.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    browser.goto(url)
    expect(browser.locator("h1")).to_have_text("This form endpoint is connected")
    expect(browser.locator("main")).to_contain_text("Acme Shop")
    expect(browser.get_by_label("Webhook URL")).to_have_value(url)
    snippet = browser.get_by_label("HTML form").input_value()
    assert snippet.startswith(f'<form action="{url}" method="post">')
    browser.get_by_role("button", name="Copy HTML").click()
    expect(browser.get_by_role("status")).to_have_text("Copied to the clipboard.")
    assert browser.evaluate("navigator.clipboard.readText()") == snippet
    browser.screenshot(path=SCREENSHOTS / "25-connected.png", full_page=True)
    browser.set_viewport_size(PHONE)
    browser.screenshot(path=SCREENSHOTS / "26-connected-390px.png", full_page=True)
    assert browser.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    assert Lead.objects.count() == 0


def test_the_snippet_from_the_connected_page_works_as_it_is(live_server, browser, site, shop):
    """Paste the copied form into a page of the site: it stores a lead and says thanks."""
    browser.goto(webhook(live_server, shop))
    snippet = browser.get_by_label("HTML form").input_value()
    (site.root / "pasted.html").write_text(_page("Contact", snippet))
    browser.goto(f"{site.origin}/pasted.html")
    browser.get_by_label("Name").fill("Pasted Form")
    browser.get_by_label("Email").fill("pasted@example.com")
    browser.get_by_label("Message").fill("Hello")
    browser.get_by_role("button", name="Send").click()
    expect(browser.locator("h1")).to_have_text("Thank you")
    lead = Lead.objects.get()
    assert (lead.name, lead.email, lead.extra_data) == (
        "Pasted Form",
        "pasted@example.com",
        {"message": "Hello"},
    )


def test_the_workspace_admin_page_shows_the_webhook(live_server, page, shop, settings):
    settings.PUBLIC_BASE_URL = "https://leads.example.net"
    get_user_model().objects.create_superuser("staff", "staff@example.com", "correct horse 42")
    page.goto(f"{live_server.url}/admin/login/?next=/admin/workspaces/workspace/{shop.id}/change/")
    page.fill("#id_username", "staff")
    page.fill("#id_password", "correct horse 42")
    page.click("input[type=submit]")
    url = f"https://leads.example.net/v1/webhook/{shop.id}"
    expect(page.get_by_label("Webhook URL")).to_have_value(url)
    expect(page.locator(".hm-activity")).to_contain_text("none received yet")
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    page.get_by_role("button", name="Copy URL").click()
    assert page.evaluate("navigator.clipboard.readText()") == url
    page.locator(".hm-webhook").scroll_into_view_if_needed()
    page.screenshot(path=SCREENSHOTS / "27-workspace-admin.png", full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=SCREENSHOTS / "28-workspace-admin-390px.png", full_page=True)
