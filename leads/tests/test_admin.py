"""The lead admin: list, filters, search, edit through the service, history, CSV export."""

import csv
import io
from datetime import UTC, timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from leads.models import Lead
from leads.selectors import lead_search
from leads.tests.factories import LeadFactory
from optin.tests.factories import OptInFactory, QuestionAnswerFactory
from workspaces.tests.factories import ProfileFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:leads_lead_changelist")
ADD = reverse("admin:leads_lead_add")


def change_url(lead: Lead) -> str:
    return reverse("admin:leads_lead_change", args=[lead.pk])


def listed(response) -> list[str]:
    """The emails of the leads on a changelist page, in order."""
    return [lead.email for lead in response.context["cl"].result_list]


def edit_data(lead: Lead, **changes) -> dict:
    data = {
        "name": lead.name,
        "email": lead.email,
        "phone": lead.phone,
        "status": lead.status,
        "source": lead.source,
        "value": str(lead.value),
        "setter": lead.setter_id or "",
        "created_by": lead.created_by_id or "",
        "opt_ins-TOTAL_FORMS": "0",
        "opt_ins-INITIAL_FORMS": "0",
        "opt_ins-MIN_NUM_FORMS": "0",
        "opt_ins-MAX_NUM_FORMS": "1000",
    }
    if lead.is_spam:
        data["is_spam"] = "on"
    data.update(changes)
    return data


# --- changelist, filters, search ---------------------------------------------------------


def test_changelist_shows_the_list_columns(admin_client, lead, profile):
    Lead.objects.filter(pk=lead.pk).update(setter=profile, value=Decimal("499.99"))
    response = admin_client.get(CHANGELIST)
    assert response.status_code == 200
    body = response.content.decode()
    for text in [lead.name, lead.email, lead.phone, "499.99", lead.workspace.name, str(profile)]:
        assert text in body
    assert listed(response) == [lead.email]


def test_spam_is_hidden_unless_asked_for(admin_client, lead, spam_lead):
    assert listed(admin_client.get(CHANGELIST)) == [lead.email]
    assert listed(admin_client.get(CHANGELIST, {"spam": "yes"})) == [spam_lead.email]
    assert sorted(listed(admin_client.get(CHANGELIST, {"spam": "all"}))) == sorted(
        [lead.email, spam_lead.email]
    )


def test_workspace_filter(admin_client, lead, other_workspace):
    other = LeadFactory(workspace=other_workspace)
    response = admin_client.get(CHANGELIST, {"workspace__id__exact": str(other_workspace.pk)})
    assert response.status_code == 200
    assert listed(response) == [other.email]
    assert listed(admin_client.get(CHANGELIST)) == [other.email, lead.email]


@pytest.mark.parametrize(("param", "value"), [("status__exact", "won"), ("source__exact", "ad")])
def test_status_and_source_filters(admin_client, workspace, param, value):
    match = LeadFactory(workspace=workspace, **{param.split("__")[0]: value})
    LeadFactory(workspace=workspace)
    response = admin_client.get(CHANGELIST, {param: value})
    assert response.status_code == 200
    assert listed(response) == [match.email]


def test_created_date_filter(admin_client, workspace):
    recent = LeadFactory(workspace=workspace)
    old = LeadFactory(workspace=workspace)
    Lead.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    # The links DateFieldListFilter renders ("Past 7 days"): aware datetimes, UTC here.
    today = timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)
    week = {
        "created_at__gte": str(today - timedelta(days=7)),
        "created_at__lt": str(today + timedelta(days=1)),
    }
    assert listed(admin_client.get(CHANGELIST, week)) == [recent.email]
    older = {"created_at__lt": str(today - timedelta(days=30))}
    assert listed(admin_client.get(CHANGELIST, older)) == [old.email]


@pytest.mark.parametrize(
    ("field", "term"),
    [("email", "JANE.DOE@EXAMPLE"), ("name", "jane d"), ("phone", "555 0199")],
)
def test_search_by_email_name_or_phone(admin_client, workspace, field, term):
    jane = LeadFactory(
        workspace=workspace, name="Jane Doe", email="jane.doe@example.com", phone="+15550199"
    )
    LeadFactory(workspace=workspace, name="Bob Roe", email="bob@example.org", phone="+4470000")
    if field == "phone":
        term = "5550199"
    response = admin_client.get(CHANGELIST, {"q": term})
    assert response.status_code == 200
    assert listed(response) == [jane.email]


def test_search_terms_are_each_in_one_field(admin_client, workspace):
    jane = LeadFactory(
        workspace=workspace, name="Jane Doe", email="jane@example.com", phone="+15550199"
    )
    # Two terms: each in some field.
    assert listed(admin_client.get(CHANGELIST, {"q": "example.com jane"})) == [jane.email]
    assert listed(admin_client.get(CHANGELIST, {"q": '"jane doe"'})) == [jane.email]
    # One quoted phrase across the email and the name (joined in the search index) is none.
    assert listed(admin_client.get(CHANGELIST, {"q": '"example.com jane"'})) == []
    assert listed(admin_client.get(CHANGELIST, {"q": '"doe +1555"'})) == []


def test_search_leaves_spam_hidden(admin_client, lead, spam_lead):
    assert listed(admin_client.get(CHANGELIST, {"q": "spam.test"})) == []
    assert listed(admin_client.get(CHANGELIST, {"q": "spam.test", "spam": "all"})) == [
        spam_lead.email
    ]


def test_changelist_query_count_does_not_grow_with_rows(
    admin_client, workspace, django_assert_max_num_queries
):
    LeadFactory.create_batch(3, workspace=workspace, setter=ProfileFactory(workspace=workspace))
    with CaptureQueriesContext(connection) as small:
        admin_client.get(CHANGELIST)
    LeadFactory.create_batch(40, workspace=workspace, setter=ProfileFactory(workspace=workspace))
    with CaptureQueriesContext(connection) as bigger:
        admin_client.get(CHANGELIST)
    # session, user, count(s), the page of leads (workspace and setter joined), workspaces
    # for the filter: the same at 3 rows as at 43.
    assert len(bigger) == len(small)
    assert len(small) <= 7


# --- change and add ----------------------------------------------------------------------


def test_change_page_shows_history_newest_first_with_ordered_answers(
    admin_client, lead_with_history
):
    response = admin_client.get(change_url(lead_with_history))
    assert response.status_code == 200
    body = response.content.decode()
    assert body.index("TYPEFORM") < body.index("CALENDLY")  # newest first
    assert body.index("Company size?") < body.index("Timeline?") < body.index("Budget?")
    assert "Webinar topic?" in body and "spring-webinar" in body and "linkedin" in body
    assert "Sam Setter" in body


def test_change_page_query_count_does_not_grow_with_history(admin_client, lead_with_history):
    with CaptureQueriesContext(connection) as two:
        admin_client.get(change_url(lead_with_history))
    for _ in range(5):
        opt_in = OptInFactory(lead=lead_with_history, api_key=None)
        QuestionAnswerFactory.create_batch(3, opt_in=opt_in)
    with CaptureQueriesContext(connection) as seven:
        response = admin_client.get(change_url(lead_with_history))
    assert response.content.decode().count("hm-qa") == 7
    assert len(seven) == len(two)


def test_edit_goes_through_the_service_and_moves_updated_at(admin_client, lead, profile):
    before = lead.updated_at
    response = admin_client.post(
        change_url(lead),
        edit_data(lead, status="won", value="1500.50", name="Jane Q", setter=str(profile.pk)),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    lead.refresh_from_db()
    assert (lead.status, lead.value, lead.name, lead.setter) == (
        "won",
        Decimal("1500.50"),
        "Jane Q",
        profile,
    )
    assert lead.updated_at > before


def test_setter_must_belong_to_the_leads_workspace(admin_client, lead, other_workspace):
    stranger = ProfileFactory(workspace=other_workspace)
    response = admin_client.post(change_url(lead), edit_data(lead, setter=str(stranger.pk)))
    assert response.status_code == 200
    assert "setter" in response.context["adminform"].form.errors
    lead.refresh_from_db()
    assert lead.setter is None


def test_negative_value_is_a_form_error_not_a_500(admin_client, lead):
    response = admin_client.post(change_url(lead), edit_data(lead, value="-5"))
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["value"] == [
        "A lead's value cannot be negative."
    ]
    lead.refresh_from_db()
    assert lead.value == Decimal("100.00")


def test_setter_choices_are_the_leads_workspace_profiles(admin_client, lead, profile):
    ProfileFactory(workspace=lead.workspace, name="Colleague")
    stranger = ProfileFactory(name="Stranger")
    form = admin_client.get(change_url(lead)).context["adminform"].form
    choices = set(form.fields["setter"].queryset)
    assert profile in choices and stranger not in choices and len(choices) == 2


def test_add_page_and_add(admin_client, workspace, profile):
    assert admin_client.get(ADD).status_code == 200
    response = admin_client.post(
        ADD,
        {
            "workspace": str(workspace.pk),
            "name": "New Lead",
            "email": "new@example.com",
            "phone": "",
            "status": "qualified",
            "source": "referral",
            "value": "10",
            "setter": str(profile.pk),
            "created_by": "",
            "opt_ins-TOTAL_FORMS": "0",
            "opt_ins-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    created = Lead.objects.get(email="new@example.com")
    assert (created.workspace, created.status, created.value, created.setter) == (
        workspace,
        "qualified",
        Decimal("10.00"),
        profile,
    )


def test_add_rejects_a_setter_of_another_workspace(admin_client, workspace, other_workspace):
    stranger = ProfileFactory(workspace=other_workspace)
    response = admin_client.post(
        ADD,
        {
            "workspace": str(workspace.pk),
            "name": "X",
            "status": "contact",
            "source": "other",
            "value": "0",
            "setter": str(stranger.pk),
            "opt_ins-TOTAL_FORMS": "0",
            "opt_ins-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert "setter" in response.context["adminform"].form.errors
    assert not Lead.objects.filter(name="X").exists()


def test_bulk_delete_is_not_offered(admin_client, lead):
    actions = [
        name
        for name, _ in admin_client.get(CHANGELIST).context["action_form"].fields["action"].choices
    ]
    assert "delete_selected" not in actions and "export_csv" in actions


# --- CSV export --------------------------------------------------------------------------


def export(admin_client, params: dict, data: dict) -> list[list[str]]:
    response = admin_client.post(
        f"{CHANGELIST}?{'&'.join(f'{k}={v}' for k, v in params.items())}",
        {"action": "export_csv", **data},
    )
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="leads-')
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))


def test_csv_export_of_selected_leads(admin_client, lead, profile):
    Lead.objects.filter(pk=lead.pk).update(setter=profile, value=Decimal("499.99"))
    LeadFactory(workspace=lead.workspace)
    lead.refresh_from_db()
    rows = export(admin_client, {}, {ACTION_CHECKBOX_NAME: [str(lead.pk)]})
    header, *body = rows
    assert header == [
        "id",
        "workspace_id",
        "workspace",
        "name",
        "email",
        "phone",
        "status",
        "source",
        "value",
        "setter",
        "created_by",
        "is_spam",
        "page_url",
        "created_at (UTC)",
        "updated_at (UTC)",
    ]
    assert body == [
        [
            str(lead.pk),
            str(lead.workspace_id),
            lead.workspace.name,
            lead.name,
            lead.email,
            lead.phone,
            "contact",
            "website",
            "499.99",
            profile.clerk_user_id,
            "",
            "False",
            "",
            lead.created_at.astimezone(UTC).isoformat(),
            lead.updated_at.astimezone(UTC).isoformat(),
        ]
    ]
    assert body[0][13].endswith("+00:00")


def test_csv_export_select_across_covers_the_whole_filtered_list(
    admin_client, workspace, other_workspace, spam_lead
):
    won = [LeadFactory(workspace=workspace, status="won") for _ in range(3)]
    LeadFactory(workspace=workspace, status="lost")
    LeadFactory(workspace=other_workspace, status="won")
    LeadFactory(workspace=workspace, status="won", is_spam=True)
    rows = export(
        admin_client,
        {"status__exact": "won", "workspace__id__exact": str(workspace.pk)},
        # The browser posts one visible row and select_across=1 for "select all N leads".
        {ACTION_CHECKBOX_NAME: [str(won[0].pk)], "select_across": "1"},
    )
    assert sorted(row[4] for row in rows[1:]) == sorted(lead.email for lead in won)


def test_csv_export_neutralises_formulas_but_keeps_phone_numbers(admin_client, workspace):
    lead = LeadFactory(workspace=workspace, name="=HYPERLINK(1)", phone="+1 (555) 010-2000")
    rows = export(admin_client, {}, {ACTION_CHECKBOX_NAME: [str(lead.pk)]})
    assert rows[1][3] == "'=HYPERLINK(1)"
    assert rows[1][5] == "+1 (555) 010-2000"


# --- PostgreSQL: the indexes and the estimated count -------------------------------------


@pytest.mark.postgres
def test_search_uses_the_trigram_index(workspace):
    # The expression lead_search filters on is the index's, to the letter (else: a scan).
    LeadFactory.create_batch(5, workspace=workspace)
    queryset = lead_search(Lead.objects.order_by(), term="lead3@exam")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()
    assert "Bitmap Index Scan on lead_search_trgm" in plan


@pytest.mark.postgres
def test_the_lead_table_has_only_the_indexes_its_queries_use():
    # Each index is paid on every insert (BENCHMARKS.md, "Lead table indexes"): a new one
    # is a decision, made with its cost measured (bench/index_cost.py).
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'leads_lead'")
        names = {row[0] for row in cursor.fetchall()}
    assert names == {
        "leads_lead_pkey",
        "lead_unique_submission_per_workspace",
        "lead_list_created",
        "lead_list_updated",
        "lead_list_spam_created",
        "lead_list_spam_updated",
        "lead_list_status_created",
        "lead_list_source_created",
        "lead_created",
        "lead_ws_email_ci",
        "lead_setter",
        "lead_created_by",
        "lead_search_trgm",
    }


@pytest.mark.postgres
def test_big_results_get_an_estimated_count(admin_client, workspace, monkeypatch):
    import hushmetrics.paginators as paginators

    monkeypatch.setattr(paginators, "EXACT_COUNT_LIMIT", 5)
    LeadFactory.create_batch(12, workspace=workspace)
    response = admin_client.get(CHANGELIST)
    cl = response.context["cl"]
    assert cl.paginator.is_estimate is True
    assert cl.result_count >= 6
    small = admin_client.get(CHANGELIST, {"q": "lead"})  # 12 matches: still estimated
    assert small.context["cl"].paginator.is_estimate is True
    exact = admin_client.get(CHANGELIST, {"status__exact": "won"})
    assert (exact.context["cl"].paginator.is_estimate, exact.context["cl"].result_count) == (
        False,
        0,
    )
