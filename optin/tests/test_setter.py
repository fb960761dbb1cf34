"""Setter attribution from `traffic.utm_content` (`user_…` → an active Profile by Clerk id)."""

import pytest

from leads.models import Lead
from leads.tests.factories import LeadFactory
from optin.models import OptIn
from workspaces.tests.factories import ProfileFactory

pytestmark = pytest.mark.django_db


def _body(utm_content: str, email: str = "jane@example.com") -> dict:
    return {
        "email": email,
        "first_name": "Jane",
        "source": "LANDING_PAGE",
        "traffic": {"utm_source": "facebook", "utm_content": utm_content},
    }


def _results(response) -> tuple[OptIn, Lead]:
    data = response.json()["data"]
    return OptIn.objects.get(pk=data["opt_in_id"]), Lead.objects.get(pk=data["lead_id"])


def test_known_active_profile_becomes_the_setter_of_opt_in_and_new_lead(submit, workspace):
    setter = ProfileFactory(workspace=workspace, clerk_user_id="user_2abcSetter")

    response = submit(_body("user_2abcSetter"))

    assert response.status_code == 201
    opt_in, lead = _results(response)
    assert opt_in.setter == setter
    assert lead.setter == setter
    assert opt_in.utm_content == "user_2abcSetter"
    assert lead.utm is not None and lead.utm["utm_content"] == "user_2abcSetter"


def test_known_profile_becomes_the_setter_of_an_existing_lead_without_one(submit, workspace):
    setter = ProfileFactory(workspace=workspace, clerk_user_id="user_2abcSetter")
    lead = LeadFactory(workspace=workspace, email="jane@example.com", setter=None)

    response = submit(_body("user_2abcSetter"))

    assert response.status_code == 200
    lead.refresh_from_db()
    assert lead.setter == setter


def test_unknown_id_is_kept_on_the_opt_in_and_is_not_an_error(submit):
    response = submit(_body("user_2doesNotExist"))

    assert response.status_code == 201
    opt_in, lead = _results(response)
    assert opt_in.setter is None
    assert lead.setter is None
    assert opt_in.utm_content == "user_2doesNotExist"


def test_inactive_profile_is_not_a_setter(submit, workspace):
    ProfileFactory(workspace=workspace, clerk_user_id="user_2gone", is_active=False)

    response = submit(_body("user_2gone"))

    assert response.status_code == 201
    opt_in, lead = _results(response)
    assert (opt_in.setter, lead.setter) == (None, None)
    assert opt_in.utm_content == "user_2gone"


def test_profile_of_another_workspace_is_not_a_setter(submit):
    ProfileFactory(clerk_user_id="user_2elsewhere")

    opt_in, lead = _results(submit(_body("user_2elsewhere")))

    assert (opt_in.setter, lead.setter) == (None, None)


def test_lead_that_already_has_a_setter_keeps_it(submit, workspace):
    first = ProfileFactory(workspace=workspace, clerk_user_id="user_2first")
    second = ProfileFactory(workspace=workspace, clerk_user_id="user_2second")
    lead = LeadFactory(workspace=workspace, email="jane@example.com", setter=first)

    response = submit(_body("user_2second"))

    assert response.status_code == 200
    opt_in, _ = _results(response)
    assert opt_in.setter == second  # the opt-in records who brought this submission
    lead.refresh_from_db()
    assert lead.setter == first


@pytest.mark.parametrize("utm_content", ["video-ad-1", "USER_2abcSetter", "xuser_2abcSetter", ""])
def test_utm_content_that_is_not_a_clerk_id_sets_no_setter(submit, workspace, utm_content):
    ProfileFactory(workspace=workspace, clerk_user_id="user_2abcSetter")

    opt_in, lead = _results(submit(_body(utm_content)))

    assert (opt_in.setter, lead.setter) == (None, None)
    assert opt_in.utm_content == utm_content
