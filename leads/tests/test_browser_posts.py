"""SPEC §8 through the Django client: a browser's form post lands where §8 says (303), the
`_next` table of friendly and hostile targets, the thank-you and "connected" pages, and the
HTML error pages, while JSON clients, form plugins and WordPress/ agents are unchanged."""

import json
from typing import Any
from urllib.parse import quote

import pytest
from django.test import RequestFactory
from django.utils.html import escape

from hushmetrics import errors
from hushmetrics.pages import ERROR_PAGES, PAGE_CSP
from leads.models import Lead
from workspaces.services import workspace_update
from workspaces.tests.factories import WorkspaceFactory

pytestmark = pytest.mark.django_db

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
CHROME = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36"
PAGE = "https://www.shop.example/contact/form.html"
ORIGIN = "https://www.shop.example"
BACK = quote(PAGE, safe="")
THANKS = object()  # the target is ignored: the service's own thank-you page


def browser_post(client, url: str, fields: Any, **headers: str):
    """A form post as Chromium sends it (multipart here; urlencoded in the live tests)."""
    meta = {"HTTP_ACCEPT": BROWSER, "HTTP_USER_AGENT": CHROME, "HTTP_ORIGIN": ORIGIN}
    meta["HTTP_REFERER"] = PAGE
    meta.update(headers)
    return client.post(url, fields, **meta)


@pytest.fixture
def shop(workspace):
    return workspace_update(
        workspace=workspace, allowed_redirect_hosts="shop.example,*.brand.example"
    )


# (the `_next` posted from https://www.shop.example/contact/form.html, where the browser
# ends up). The workspace allows shop.example (exactly) and *.brand.example.
NEXT_TARGETS = [
    # Friendly: same host, relative, and the hosts the workspace allows.
    ("https://www.shop.example/thanks", "https://www.shop.example/thanks"),
    ("/thanks", "https://www.shop.example/thanks"),
    ("thanks.html", "https://www.shop.example/contact/thanks.html"),
    ("../thanks?from=form#top", "https://www.shop.example/thanks?from=form#top"),
    ("?sent=1", "https://www.shop.example/contact/form.html?sent=1"),
    ("https://shop.example/thanks", "https://shop.example/thanks"),
    ("https://brand.example/merci", "https://brand.example/merci"),
    ("https://deep.sub.brand.example/x", "https://deep.sub.brand.example/x"),
    ("HTTPS://WWW.SHOP.EXAMPLE/Thanks", "https://WWW.SHOP.EXAMPLE/Thanks"),
    ("https://www.shop.example:443/thanks", "https://www.shop.example:443/thanks"),
    ("https://www.shop.example/danké", "https://www.shop.example/dank%C3%A9"),
    ("https://bücher.brand.example/", "https://xn--bcher-kva.brand.example/"),
    ("https://shop.example:8443/ok", "https://shop.example:8443/ok"),
    # Percent-encoded text is only text in the path: still the shop's host, no header split.
    ("/%2F%2Fevil.example", "https://www.shop.example/%2F%2Fevil.example"),
    ("/thanks%0d%0aSet-Cookie:x=1", "https://www.shop.example/thanks%0d%0aSet-Cookie:x=1"),
    # Hostile: open-redirect tricks, all ignored.
    ("//evil.example/", THANKS),
    ("///evil.example/", THANKS),
    ("/\\evil.example/", THANKS),
    ("\\\\evil.example", THANKS),
    ("https:evil.example", THANKS),
    ("https:/evil.example", THANKS),
    ("https://www.shop.example@evil.example/", THANKS),
    ("https://user:pw@www.shop.example/thanks", THANKS),
    ("https://evil.example#@www.shop.example", THANKS),
    ("https://evil.example?@www.shop.example", THANKS),
    ("https://evil.example/https://www.shop.example/", THANKS),
    ("https://www.shop.example.evil.example/", THANKS),
    ("https://evilshop.example/", THANKS),
    ("https://www.evil.shop.example.evil/", THANKS),
    ("https://brand.example.evil.example/", THANKS),
    ("https://notbrand.example/", THANKS),
    ("https://www.shop.example./thanks", THANKS),
    ("https://shop.example../", THANKS),
    ("https://www.ѕhop.example/", THANKS),  # Cyrillic ѕ: an IDN look-alike
    ("https://xn--www-hop-0ze.example/", THANKS),  # a punycode look-alike
    ("https://www.shop.example。evil.example/", THANKS),  # ideographic full stop
    ("https://evil.example%2e.brand.example/", THANKS),
    ("https://www.shop.example:8443/thanks", THANKS),
    ("https://www.shop.example:99999/", THANKS),
    ("http://www.shop.example/thanks", THANKS),  # an https page never goes to http
    ("javascript:alert(document.domain)", THANKS),
    ("JaVaScRiPt:alert(1)", THANKS),
    ("java\tscript:alert(1)", THANKS),
    ("data:text/html,<script>alert(1)</script>", THANKS),
    ("ftp://www.shop.example/", THANKS),
    ("https://www.shop.example/thanks\r\nSet-Cookie: x=1", THANKS),
    ("https://www.shop.example/thanks\u200b", THANKS),  # zero-width space
    ("https://www.shop.example/\u202ethanks", THANKS),  # right-to-left override
    ("https://[::1]/", THANKS),
    ("https://127.0.0.1/", THANKS),
    ("https://www.shop.example/" + "x" * 2100, THANKS),
    ("https://[::1/thanks", THANKS),  # unparsable: ignored, never a 500 after the insert
    ("", THANKS),
]


@pytest.mark.parametrize(("target", "lands_on"), NEXT_TARGETS)
def test_where_a_browser_lands_for_each_next_target(client, shop, target, lands_on):
    response = browser_post(
        client, f"/v1/webhook/{shop.id}", {"email": "v@x.example", "_next": target}
    )
    expected = f"/v1/webhook/{shop.id}/thanks?back={BACK}" if lands_on is THANKS else lands_on
    assert response.status_code == 303
    assert response["Location"] == expected
    assert Lead.objects.get().email == "v@x.example"  # stored, whatever `_next` was


def test_the_table_has_at_least_thirty_targets_of_each_kind():
    assert sum(lands_on is THANKS for _target, lands_on in NEXT_TARGETS) >= 30
    assert sum(lands_on is not THANKS for _target, lands_on in NEXT_TARGETS) >= 10


def test_redirect_is_the_other_spelling_and_next_comes_first(client, shop):
    url = f"/v1/webhook/{shop.id}"
    only_redirect = browser_post(client, url, {"name": "A", "_redirect": "/merci"})
    both = browser_post(client, url, {"name": "B", "_next": "/next", "_redirect": "/redirect"})
    bad_next = browser_post(
        client, url, {"name": "C", "_next": "//evil.example", "_redirect": "/r"}
    )
    assert only_redirect["Location"] == "https://www.shop.example/merci"
    assert both["Location"] == "https://www.shop.example/next"
    assert bad_next["Location"] == f"/v1/webhook/{shop.id}/thanks?back={BACK}"
    assert Lead.objects.count() == 3


def test_the_workspace_thank_you_url_comes_before_the_service_page(client, shop):
    workspace_update(workspace=shop, thank_you_url="https://www.shop.example/merci?x=1")
    url = f"/v1/webhook/{shop.id}"
    without_next = browser_post(client, url, {"name": "A"})
    foreign_next = browser_post(client, url, {"name": "B", "_next": "https://evil.example/"})
    valid_next = browser_post(client, url, {"name": "C", "_next": "/own"})
    assert without_next["Location"] == "https://www.shop.example/merci?x=1"
    assert foreign_next["Location"] == "https://www.shop.example/merci?x=1"
    assert valid_next["Location"] == "https://www.shop.example/own"


def test_a_relative_next_needs_a_posting_page_to_resolve_against(client, workspace):
    url = f"/v1/webhook/{workspace.id}"
    response = client.post(url, {"name": "A", "_next": "/thanks"}, HTTP_ACCEPT=BROWSER)
    assert response.status_code == 303
    assert response["Location"] == f"/v1/webhook/{workspace.id}/thanks"  # no back link either


def test_an_origin_only_referer_resolves_against_the_site_root(client, workspace):
    # Browsers send only the origin as Referer to another site by default.
    url = f"/v1/webhook/{workspace.id}"
    response = browser_post(
        client, url, {"name": "A", "_next": "thanks.html"}, HTTP_REFERER=ORIGIN + "/"
    )
    assert response["Location"] == "https://www.shop.example/thanks.html"


def test_a_relative_next_does_not_carry_the_pages_own_query(client, workspace):
    url = f"/v1/webhook/{workspace.id}"
    referer = "https://www.shop.example/contact?email=jane%40example.com"
    response = browser_post(client, url, {"name": "A", "_next": "#sent"}, HTTP_REFERER=referer)
    assert response["Location"] == "https://www.shop.example/contact#sent"


def test_a_null_origin_falls_back_to_the_referer(client, workspace):
    url = f"/v1/webhook/{workspace.id}"
    response = browser_post(client, url, {"name": "A", "_next": "/ok"}, HTTP_ORIGIN="null")
    assert response["Location"] == "https://www.shop.example/ok"


def test_no_lead_data_goes_into_the_location_or_the_thank_you_page(client, workspace):
    url = f"/v1/webhook/{workspace.id}"
    secret_page = "https://www.shop.example/contact?email=jane%40example.com&name=Jane"
    response = browser_post(
        client, url, {"name": "Jane Doe", "email": "jane@example.com"}, HTTP_REFERER=secret_page
    )
    location = response["Location"]
    assert location == f"/v1/webhook/{workspace.id}/thanks?back=" + quote(
        "https://www.shop.example/contact", safe=""
    )
    page = client.get(location, HTTP_ACCEPT=BROWSER).content.decode()
    for secret in ("Jane", "jane", "example.com&", "email="):
        assert secret not in location and secret not in page


# --- clients that are not a person's browser: unchanged (SPEC A.2) --------------------------


def test_a_json_client_still_gets_201_and_the_lead(client, shop):
    response = client.post(
        f"/v1/webhook/{shop.id}",
        json.dumps({"name": "A", "_next": "/thanks"}),
        content_type="application/json",
        HTTP_ORIGIN=ORIGIN,
    )
    assert response.status_code == 201
    assert "Location" not in response
    assert response.json()["name"] == "A"


def test_fetch_with_its_default_accept_still_gets_json(client, shop):
    response = client.post(f"/v1/webhook/{shop.id}", {"name": "A"}, HTTP_ACCEPT="*/*")
    assert response.status_code == 201 and response.json()["name"] == "A"


def test_wordpress_is_not_a_browser_even_when_it_accepts_html(client, shop):
    url = f"/v1/webhook/{shop.id}"
    wordpress = {"HTTP_USER_AGENT": "WordPress/6.6; https://www.shop.example"}
    plain = browser_post(client, url, {"name": "A"}, **wordpress)
    foreign = browser_post(
        client, url, {"name": "B", "_next": "https://evil.example/"}, **wordpress
    )
    missing = browser_post(
        client, "/v1/webhook/00000000-0000-0000-0000-000000000000", {"name": "C"}, **wordpress
    )
    assert (plain.status_code, plain.json()["name"]) == (200, "A")
    assert foreign.status_code == 200 and "Location" not in foreign
    assert (missing.status_code, missing.json()) == (404, {"message": "Workspace not found"})


def test_html_with_zero_quality_is_not_a_browser(client, shop):
    response = client.post(
        f"/v1/webhook/{shop.id}", {"name": "A"}, HTTP_ACCEPT="text/html;q=0, application/json"
    )
    assert response.status_code == 201


# --- the thank-you page -------------------------------------------------------------------


def test_the_thank_you_page_names_the_workspace_and_links_back(client, workspace):
    response = client.get(f"/v1/webhook/{workspace.id}/thanks", {"back": PAGE})
    body = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Content-Security-Policy"] == PAGE_CSP
    assert "Your message was sent to" in body and workspace.name in body
    assert f'href="{PAGE}"' in body and "Back to www.shop.example" in body
    assert '<html lang="en">' in body and "<script" not in body and "style=" not in body


@pytest.mark.parametrize(
    "back",
    ["javascript:alert(1)", "//evil.example", "data:text/html,x", "https://u:p@evil.example/", ""],
)
def test_the_thank_you_page_links_only_to_http_pages(client, workspace, back):
    body = client.get(f"/v1/webhook/{workspace.id}/thanks", {"back": back}).content.decode()
    assert "Back to" not in body and "href=" not in body.split("</head>")[1]


def test_the_thank_you_page_of_an_unknown_or_disabled_workspace_is_a_404_page(client):
    disabled = WorkspaceFactory(webhook_enabled=False)
    for path in (f"/v1/webhook/{disabled.id}/thanks", "/v1/webhook/not-a-uuid/thanks/"):
        response = client.get(path)
        assert response.status_code == 404
        assert response["Content-Type"].startswith("text/html")
        assert ERROR_PAGES[404][1] in response.content.decode()


def test_a_reload_of_the_thank_you_page_stores_nothing(client, workspace):
    location = browser_post(client, f"/v1/webhook/{workspace.id}", {"name": "A"})["Location"]
    for _reload in range(3):
        assert client.get(location, HTTP_ACCEPT=BROWSER).status_code == 200
    assert Lead.objects.count() == 1


# --- error pages for a browser's failed post ----------------------------------------------


def assert_error_page(response, status: int) -> str:
    body = response.content.decode()
    assert response.status_code == status
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response["Content-Security-Policy"] == PAGE_CSP
    assert escape(ERROR_PAGES[status][1]) in body
    assert f'href="{PAGE}"' in body and "Back to www.shop.example" in body
    assert "Traceback" not in body and '{"message"' not in body
    return body


def test_a_wrong_workspace_is_a_404_page(client):
    for path in ("/v1/webhook/4f6a0b3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b", "/v1/webhook/typo/"):
        assert_error_page(browser_post(client, path, {"name": "A"}), 404)
    disabled = WorkspaceFactory(webhook_enabled=False)
    assert_error_page(browser_post(client, f"/v1/webhook/{disabled.id}", {"name": "A"}), 404)
    assert Lead.objects.count() == 0


def test_an_empty_form_is_a_400_page(client, workspace):
    response = browser_post(client, f"/v1/webhook/{workspace.id}", {"_next": "/x", "_gotcha": ""})
    assert_error_page(response, 400)
    assert Lead.objects.count() == 0


def test_past_the_rate_limit_a_429_page_with_retry_after(client, workspace, settings):
    settings.RATE_LIMIT_WEBHOOK = "2/m"
    url = f"/v1/webhook/{workspace.id}"
    for name in ("A", "B"):
        assert browser_post(client, url, {"name": name}).status_code == 303
    response = browser_post(client, url, {"name": "C"})
    assert_error_page(response, 429)
    assert int(response["Retry-After"]) >= 1
    assert Lead.objects.count() == 2


def test_a_body_over_the_limit_is_a_413_page(client, workspace, settings):
    response = browser_post(
        client,
        f"/v1/webhook/{workspace.id}",
        {"message": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)},
    )
    assert_error_page(response, 413)
    assert Lead.objects.count() == 0


def test_an_unreadable_body_is_a_415_page(client, workspace):
    response = browser_post(
        client, f"/v1/webhook/{workspace.id}", "<a/>", content_type="application/xml"
    )
    assert_error_page(response, 415)


def test_a_refused_key_is_a_401_page(client, workspace):
    response = browser_post(
        client, f"/v1/webhook/{workspace.id}", {"name": "A"}, HTTP_X_API_KEY="sk_live_nope"
    )
    assert_error_page(response, 401)
    assert Lead.objects.count() == 0


def test_a_reused_submission_id_is_a_409_page(client, workspace):
    url = f"/v1/webhook/{workspace.id}"
    assert browser_post(client, url, {"name": "A"}, HTTP_IDEMPOTENCY_KEY="k-1").status_code == 303
    response = browser_post(client, url, {"name": "Other"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert_error_page(response, 409)
    assert list(Lead.objects.values_list("name", flat=True)) == ["A"]


def test_a_lost_database_is_a_503_page_with_retry_after():
    from django.db import OperationalError

    request = RequestFactory().post(
        "/v1/webhook/x", HTTP_ACCEPT=BROWSER, HTTP_USER_AGENT=CHROME, HTTP_REFERER=PAGE
    )
    response = errors.exception_handler(
        OperationalError("gone"), {"request": request, "view": None}
    )
    assert_error_page(response, 503)
    assert response["Retry-After"] == "5"


def test_a_500_stays_json_even_for_a_browser():
    request = RequestFactory().post("/v1/webhook/x", HTTP_ACCEPT=BROWSER, HTTP_REFERER=PAGE)
    response = errors.exception_handler(
        RuntimeError("internals"), {"request": request, "view": None}
    )
    assert (response.status_code, json.loads(response.content)) == (
        500,
        {"message": "Internal server error"},
    )


def test_without_a_referer_the_page_says_how_to_go_back(client):
    response = client.post("/v1/webhook/typo", {"name": "A"}, HTTP_ACCEPT=BROWSER)
    body = response.content.decode()
    assert response.status_code == 404
    assert "Use your browser's back button" in body and "href=" not in body.split("</head>")[1]


def test_json_clients_keep_their_json_errors(client):
    response = client.post("/v1/webhook/typo", {"name": "A"}, HTTP_REFERER=PAGE)
    assert (response.status_code, response.json()) == (404, {"message": "Workspace not found"})
    other_path = client.post(
        "/v1/create-lead", "{}", content_type="application/json", HTTP_ACCEPT=BROWSER
    )
    assert other_path["Content-Type"] == "application/json"


# --- GET/HEAD /v1/webhook/{id}: is my form connected? -------------------------------------


def test_a_browser_opening_the_webhook_url_sees_it_is_connected(client, workspace):
    url = f"/v1/webhook/{workspace.id}"
    response = client.get(url, HTTP_ACCEPT=BROWSER, HTTP_USER_AGENT=CHROME)
    body = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == PAGE_CSP
    assert "This form endpoint is connected" in body and workspace.name in body
    # The snippet posts to this very URL (HTML-escaped inside the textarea).
    assert f"&lt;form action=&quot;http://testserver{url}&quot; method=&quot;post&quot;&gt;" in body
    assert '<label for="hm-form-snippet">' in body and '<label for="hm-webhook-url">' in body
    assert '<script src="/static/pages/copy.js" defer></script>' in body
    assert Lead.objects.count() == 0


def test_anything_else_gets_json_naming_the_workspace(client, workspace):
    for trailing in ("", "/"):
        response = client.get(f"/v1/webhook/{workspace.id}{trailing}")
        assert response.status_code == 200
        assert response.json() == {
            "message": "Send form submissions here with POST",
            "workspace": {"id": str(workspace.id), "name": workspace.name},
        }


def test_head_answers_as_get_without_a_body(client, workspace):
    html = client.head(f"/v1/webhook/{workspace.id}", HTTP_ACCEPT=BROWSER)
    json_head = client.head(f"/v1/webhook/{workspace.id}")
    assert (html.status_code, html["Content-Type"]) == (200, "text/html; charset=utf-8")
    assert (json_head.status_code, json_head["Content-Type"]) == (200, "application/json")
    assert html.content == json_head.content == b""


def test_an_unknown_or_disabled_workspace_is_a_404_in_both_formats(client):
    disabled = WorkspaceFactory(webhook_enabled=False)
    for path in (
        "/v1/webhook/4f6a0b3e-1c2d-4e5f-8a9b-0c1d2e3f4a5b",
        f"/v1/webhook/{disabled.id}",
        "/v1/webhook/typo",
    ):
        as_json = client.get(path)
        as_page = client.get(path, HTTP_ACCEPT=BROWSER)
        assert (as_json.status_code, as_json.json()) == (404, {"message": "Workspace not found"})
        assert as_page.status_code == 404
        assert ERROR_PAGES[404][1] in as_page.content.decode()


def test_looking_at_the_endpoint_spends_no_submission_quota(client, workspace, settings):
    settings.RATE_LIMIT_WEBHOOK = "2/m"
    url = f"/v1/webhook/{workspace.id}"
    for _look in range(2):
        assert client.get(url).status_code == 200
    assert client.get(url).status_code == 429
    assert browser_post(client, url, {"name": "A"}).status_code == 303


def test_the_thank_you_page_is_rate_limited_as_a_page(client, workspace, settings):
    settings.RATE_LIMIT_WEBHOOK = "2/m"
    url = f"/v1/webhook/{workspace.id}/thanks"
    assert [client.get(url).status_code for _ in range(2)] == [200, 200]
    response = client.get(url, HTTP_ACCEPT=BROWSER)
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
    assert escape(ERROR_PAGES[429][1]) in response.content.decode()
