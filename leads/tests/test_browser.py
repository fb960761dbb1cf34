"""The back office in a real browser: headless Chromium driven by Playwright.

Log in, find a lead by email, open it and read its opt-in Q&A, issue an API key (shown once),
revoke it, and see the key refused afterwards. The browser: `hushmetrics/tests/browser.py`.
"""

import json

from hushmetrics.tests.browser import BROWSER_TEST, SCREENSHOTS, expect
from leads.tests.factories import LeadFactory
from optin.tests.factories import OptInFactory, QuestionAnswerFactory
from workspaces.services import api_key_verify
from workspaces.tests.factories import ApiKeyFactory

OPTIN_SUBMIT = "/api/opt-in/submit"
pytestmark = BROWSER_TEST


def submit_optin(page, base_url: str, key: str, email: str):  # noqa: ANN001, ANN201
    """POST an opt-in from the browser's context with `key`; the Playwright response."""
    return page.request.post(
        f"{base_url}{OPTIN_SUBMIT}",
        headers={"x-api-key": key, "content-type": "application/json"},
        data=json.dumps({"email": email, "first_name": "New", "source": "TYPEFORM"}),
    )


def test_staff_find_a_lead_read_its_answers_and_revoke_a_key(live_server, page, workspace):
    from django.contrib.auth import get_user_model

    get_user_model().objects.create_superuser("staff", "staff@example.com", "correct horse 42")
    lead = LeadFactory(workspace=workspace, name="Jane Browser", email="jane.browser@example.com")
    LeadFactory.create_batch(5, workspace=workspace)
    opt_in = OptInFactory(lead=lead, source="TYPEFORM", utm_campaign="spring-launch")
    QuestionAnswerFactory(
        opt_in=opt_in, question="How big is your team?", answer="11-50", position=2
    )
    QuestionAnswerFactory(
        opt_in=opt_in, question="What brings you here?", answer="Demo", position=1
    )
    ApiKeyFactory(workspace=workspace, name="Calendly integration")  # stays active
    # Log in.
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("#id_username", "staff")
    page.fill("#id_password", "correct horse 42")
    page.click("input[type=submit]")
    expect(page.locator("#site-name")).to_be_visible()
    page.screenshot(path=SCREENSHOTS / "01-admin-index.png", full_page=True)

    # Search the lead by email.
    page.goto(f"{live_server.url}/admin/leads/lead/")
    page.fill("#searchbar", "jane.browser@example")
    page.press("#searchbar", "Enter")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("jane.browser@example.com")
    page.screenshot(path=SCREENSHOTS / "02-lead-search.png", full_page=True)

    # Open it: the opt-in history with its Q&A in position order.
    rows.first.get_by_role("link", name="Jane Browser").click()
    history = page.locator(".hm-qa")
    expect(history).to_have_count(1)
    expect(history.locator("li").nth(0)).to_contain_text("What brings you here?")
    expect(history.locator("li").nth(1)).to_contain_text("How big is your team?")
    expect(page.locator("body")).to_contain_text("spring-launch")
    page.screenshot(path=SCREENSHOTS / "03-lead-opt-in-history.png", full_page=True)

    # Issue a key: the add form shows it once.
    page.goto(f"{live_server.url}/admin/workspaces/apikey/add/?workspace={workspace.pk}")
    page.fill("#id_name", "Typeform integration")
    page.click("input[name=_save]")
    plaintext = page.locator("#issued-key").input_value()
    expect(page.locator("#content")).to_contain_text("shown once and never again")
    page.screenshot(path=SCREENSHOTS / "04-key-issued-once.png", full_page=True)
    key = api_key_verify(key=plaintext)
    assert key is not None and key.name == "Typeform integration"
    response = submit_optin(page, live_server.url, plaintext, "before@example.com")
    assert response.status == 201
    assert response.json()["message"] == "Lead created via opt-in"

    # Revoke it: select it, run the action, confirm.
    page.goto(f"{live_server.url}/admin/workspaces/apikey/")
    page.check(f"input[name=_selected_action][value='{key.pk}']")
    page.select_option("select[name=action]", "revoke_selected")
    page.click("button[name=index]")
    expect(page.locator("#keys-to-revoke")).to_contain_text(key.display_prefix)
    page.screenshot(path=SCREENSHOTS / "05-revoke-confirm.png", full_page=True)
    page.click("input[value='Yes, revoke them']")
    expect(page.locator(".messagelist")).to_contain_text("Revoked 1 API key.")
    expect(page.locator("#result_list")).to_contain_text("revoked")
    page.screenshot(path=SCREENSHOTS / "06-key-revoked.png", full_page=True)

    # Refused afterwards: by the key service, which every API authenticates through ...
    assert api_key_verify(key=plaintext) is None
    # ... and by the opt-in API itself, which took the same key before the revocation.
    response = submit_optin(page, live_server.url, plaintext, "after@example.com")
    assert response.status == 401
    assert response.json() == {"status": "error", "message": "Invalid or revoked API key"}
