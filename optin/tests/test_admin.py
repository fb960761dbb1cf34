"""The opt-in admin: a read-only list and detail with the Q&A and traffic."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from optin.models import OptIn
from optin.tests.factories import OptInFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:optin_optin_changelist")


def listed(response) -> list[OptIn]:
    return list(response.context["cl"].result_list)


def test_changelist_columns(admin_client, lead_with_history):
    newer, older = lead_with_history.opt_ins.order_by("-created_at")
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    assert listed(response) == [newer, older]
    body = response.content.decode()
    for text in ["jane.doe@example.com", "TYPEFORM", "CALENDLY", "Sam Setter", "Jane Doe"]:
        assert text in body


def test_filters_and_search(admin_client, lead_with_history):
    newer, older = lead_with_history.opt_ins.order_by("-created_at")
    other = OptInFactory(
        email="zed@example.org", external_reference="cal-42", source="WEBINAR", is_new_lead=True
    )
    assert listed(admin_client.get(CHANGELIST, {"source__exact": "CALENDLY"})) == [older]
    assert listed(admin_client.get(CHANGELIST, {"is_new_lead__exact": "1"})) == [other]
    assert listed(
        admin_client.get(CHANGELIST, {"workspace__id__exact": str(other.workspace_id)})
    ) == [other]
    since = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)
    assert set(listed(admin_client.get(CHANGELIST, {"created_at__gte": str(since)}))) == {
        newer,
        other,
    }
    assert listed(admin_client.get(CHANGELIST, {"q": "ZED@example"})) == [other]
    assert listed(admin_client.get(CHANGELIST, {"q": "cal-42"})) == [other]
    assert listed(admin_client.get(CHANGELIST, {"q": "cal-4"})) == []  # exact reference only


def test_detail_shows_answers_in_position_order_and_traffic(admin_client, lead_with_history):
    newer = lead_with_history.opt_ins.order_by("-created_at").first()
    response = admin_client.get(reverse("admin:optin_optin_change", args=[newer.pk]))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index("Company size?") < body.index("Timeline?") < body.index("Budget?")
    assert "answer 1" in body and "linkedin" in body and "Traffic" in body
    assert "Webinar topic?" not in body  # the other opt-in's answer


def test_opt_ins_are_read_only(admin_client, lead_with_history):
    opt_in = lead_with_history.opt_ins.first()
    assert admin_client.get(reverse("admin:optin_optin_add")).status_code == 403
    change = reverse("admin:optin_optin_change", args=[opt_in.pk])
    assert admin_client.post(change, {"email": "x@y.z"}).status_code == 403
    delete = reverse("admin:optin_optin_delete", args=[opt_in.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    opt_in.refresh_from_db()
    assert opt_in.email == "jane.doe@example.com"
