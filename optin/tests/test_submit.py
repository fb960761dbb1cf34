"""POST /api/opt-in/submit: the documented requests and responses, leads, opt-ins, Q&A."""

import copy
from datetime import timedelta

import pytest

from leads.models import Lead
from leads.tests.factories import LeadFactory
from optin.models import OptIn, QuestionAnswer
from optin.tests.conftest import DOCUMENTED_BODY, SUBMIT_URL, UUID
from workspaces.tests.factories import ApiKeyFactory

pytestmark = pytest.mark.django_db

IDEMPOTENCY_EXAMPLE = {
    "email": "john@example.com",
    "first_name": "John",
    "source": "LANDING_PAGE",
    "external_reference": "typeform-submission-abc123",
}


def _data(response) -> dict:
    body = response.json()
    assert UUID.fullmatch(body["data"]["opt_in_id"])
    assert UUID.fullmatch(body["data"]["lead_id"])
    return body["data"]


def test_documented_body_creates_a_lead_with_the_documented_201(submit, workspace, api_key):
    response = submit(DOCUMENTED_BODY)

    assert response.status_code == 201
    data = _data(response)
    assert response.json() == {
        "status": "success",
        "message": "Lead created via opt-in",
        "data": {"opt_in_id": data["opt_in_id"], "lead_id": data["lead_id"], "is_new_lead": True},
    }
    assert "Idempotent-Replayed" not in response
    lead = Lead.objects.get(pk=data["lead_id"], workspace=workspace)
    assert lead.name == "Jane Doe"
    assert lead.email == "jane@example.com"
    assert lead.phone == "+14155552671"
    assert lead.status == Lead.Status.CONTACT
    assert lead.source == Lead.Source.WEBSITE
    assert lead.utm == {
        "utm_source": "facebook",
        "utm_medium": "paid",
        "utm_campaign": "q1-coaching",
        "utm_content": "video-ad-1",
        "utm_term": "coaching program",
    }
    assert lead.page_url == "https://yoursite.com/apply"
    assert lead.setter is None
    opt_in = OptIn.objects.get(pk=data["opt_in_id"])
    assert opt_in.lead == lead
    assert opt_in.workspace == workspace
    assert opt_in.api_key == api_key
    assert opt_in.is_new_lead is True
    assert (opt_in.source, opt_in.external_reference) == ("TYPEFORM", "typeform-submission-xyz789")
    assert (opt_in.first_name, opt_in.last_name, opt_in.email) == ("Jane", "Doe", lead.email)
    assert (opt_in.phone_e164, opt_in.phone_country) == ("+14155552671", "US")
    assert (opt_in.provider_form_id, opt_in.provider_form_name) == (
        "frm_123",
        "Coaching application",
    )
    for field, value in DOCUMENTED_BODY["traffic"].items():
        assert getattr(opt_in, field) == value
    assert list(opt_in.answers.values_list("question", "answer", "position")) == [
        ("What is your biggest challenge?", "Generating consistent leads", 0)
    ]


def test_known_email_in_any_case_gives_the_documented_200(submit, workspace):
    lead = LeadFactory(workspace=workspace, email="Jane@Example.com")

    response = submit({"email": "JANE@example.COM", "first_name": "Jane", "source": "WEBINAR"})

    assert response.status_code == 200
    data = _data(response)
    assert response.json() == {
        "status": "success",
        "message": "Opt-in recorded for existing lead",
        "data": {"opt_in_id": data["opt_in_id"], "lead_id": str(lead.id), "is_new_lead": False},
    }
    assert Lead.objects.count() == 1
    opt_in = OptIn.objects.get(pk=data["opt_in_id"])
    assert opt_in.is_new_lead is False
    assert opt_in.email == "JANE@example.COM"


def test_idempotency_example_replays_the_original_and_writes_nothing(submit):
    first = submit(IDEMPOTENCY_EXAMPLE)
    assert first.status_code == 201
    original = _data(first)
    lead = Lead.objects.get()
    updated_at = lead.updated_at

    replay = submit(IDEMPOTENCY_EXAMPLE)

    assert replay.status_code == 200
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json() == {
        "status": "success",
        "message": "Opt-in recorded for existing lead",
        "data": {
            "opt_in_id": original["opt_in_id"],
            "lead_id": original["lead_id"],
            "is_new_lead": False,
        },
    }
    assert (Lead.objects.count(), OptIn.objects.count()) == (1, 1)
    lead.refresh_from_db()
    assert lead.updated_at == updated_at


def test_replay_returns_the_original_even_when_the_body_differs(submit):
    original = _data(submit(IDEMPOTENCY_EXAMPLE))
    changed = {**IDEMPOTENCY_EXAMPLE, "email": "someone-else@example.com", "last_name": "X"}

    replay = submit(changed)

    assert replay.status_code == 200
    assert replay["Idempotent-Replayed"] == "true"
    assert _data(replay)["opt_in_id"] == original["opt_in_id"]
    assert (Lead.objects.count(), OptIn.objects.count()) == (1, 1)


def test_same_reference_with_another_source_is_a_new_opt_in(submit):
    first = _data(submit(IDEMPOTENCY_EXAMPLE))

    response = submit({**IDEMPOTENCY_EXAMPLE, "source": "TYPEFORM"})

    assert response.status_code == 200
    assert "Idempotent-Replayed" not in response
    assert _data(response)["opt_in_id"] != first["opt_in_id"]
    assert _data(response)["lead_id"] == first["lead_id"]
    assert OptIn.objects.count() == 2


def test_same_reference_in_another_workspace_is_a_new_opt_in(submit):
    submit(IDEMPOTENCY_EXAMPLE)
    other_key = ApiKeyFactory()

    response = submit(IDEMPOTENCY_EXAMPLE, key=other_key.plaintext)

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Lead.objects.filter(workspace=other_key.workspace).count() == 1


def test_submissions_without_a_reference_are_never_replays(submit):
    body = {"email": "a@example.com", "first_name": "A", "source": "OTHER"}
    assert submit(body).status_code == 201
    second = submit({**body, "external_reference": ""})
    assert second.status_code == 200
    assert "Idempotent-Replayed" not in second
    assert OptIn.objects.filter(external_reference__isnull=True).count() == 2


def test_the_earliest_lead_with_the_email_is_the_match(submit, workspace):
    earliest = LeadFactory(workspace=workspace, email="dup@example.com")
    later = LeadFactory(workspace=workspace, email="DUP@example.com")
    Lead.objects.filter(pk=later.pk).update(created_at=earliest.created_at + timedelta(days=1))

    response = submit({"email": "Dup@Example.com", "first_name": "D", "source": "OTHER"})

    assert _data(response)["lead_id"] == str(earliest.id)


def test_leads_of_other_workspaces_are_never_matched(submit):
    stranger = LeadFactory(email="jane@example.com")

    response = submit({"email": "jane@example.com", "first_name": "Jane", "source": "OTHER"})

    assert response.status_code == 201
    assert _data(response)["lead_id"] != str(stranger.id)


def test_existing_lead_gets_its_blank_fields_filled_and_keeps_the_others(submit, workspace):
    lead = LeadFactory(
        workspace=workspace,
        email="jane@example.com",
        name="Jane Original",
        phone="",
        utm=None,
        page_url=None,
        source=Lead.Source.REFERRAL,
        status=Lead.Status.QUALIFIED,
    )
    updated_at = lead.updated_at

    response = submit(DOCUMENTED_BODY)

    assert response.status_code == 200
    lead.refresh_from_db()
    assert lead.name == "Jane Original"  # never overwritten
    assert lead.source == Lead.Source.REFERRAL
    assert lead.status == Lead.Status.QUALIFIED
    assert lead.phone == "+14155552671"  # was blank: filled
    assert lead.utm is not None and lead.utm["utm_campaign"] == "q1-coaching"
    assert lead.page_url == "https://yoursite.com/apply"
    assert lead.updated_at > updated_at


def test_existing_lead_with_nothing_blank_still_moves_updated_at(submit, workspace):
    lead = LeadFactory(
        workspace=workspace,
        email="jane@example.com",
        utm={"utm_source": "google"},
        page_url="https://a.example/",
    )
    before = Lead.objects.values().get(pk=lead.pk)

    assert submit(DOCUMENTED_BODY).status_code == 200

    after = Lead.objects.values().get(pk=lead.pk)
    assert after["updated_at"] > before["updated_at"]
    assert {**after, "updated_at": None} == {**before, "updated_at": None}


@pytest.mark.parametrize(
    ("source", "lead_source"),
    [
        ("LANDING_PAGE", "website"),
        ("TYPEFORM", "website"),
        ("CALENDLY", "website"),
        ("WEBINAR", "website"),
        ("NEWSLETTER", "email"),
        ("MANUAL", "other"),
        ("OTHER", "other"),
    ],
)
def test_opt_in_source_maps_onto_the_lead_source(submit, source, lead_source):
    response = submit({"email": "a@example.com", "first_name": "A", "source": source})
    assert Lead.objects.get(pk=_data(response)["lead_id"]).source == lead_source


def test_minimal_body_stores_empty_optional_fields(submit):
    response = submit({"email": " a@example.com ", "first_name": " Ann ", "source": "MANUAL"})

    assert response.status_code == 201
    lead = Lead.objects.get()
    assert (lead.name, lead.email, lead.phone, lead.utm, lead.page_url) == (
        "Ann",
        "a@example.com",
        "",
        None,
        None,
    )
    opt_in = OptIn.objects.get()
    assert opt_in.external_reference is None
    assert opt_in.answers.count() == 0


def test_optional_fields_accept_null(submit):
    body = {
        "email": "a@example.com",
        "first_name": "A",
        "source": "OTHER",
        **dict.fromkeys(
            [
                "last_name",
                "phone_e164",
                "phone_country",
                "provider_form_id",
                "provider_form_name",
                "external_reference",
                "questions_answers",
                "traffic",
            ]
        ),
    }
    assert submit(body).status_code == 201


def test_answers_are_stored_in_position_order(submit):
    body = copy.deepcopy(DOCUMENTED_BODY)
    body["questions_answers"] = [
        {"question": "Third?", "answer": "c", "position": 7},
        {"question": "First?", "answer": "a", "position": 1},
        {"question": "Second?", "answer": "", "position": 3},
    ]

    opt_in_id = _data(submit(body))["opt_in_id"]

    answers = QuestionAnswer.objects.filter(opt_in_id=opt_in_id)
    assert list(answers.values_list("question", "position")) == [
        ("First?", 1),
        ("Second?", 3),
        ("Third?", 7),
    ]


def test_answers_without_a_position_take_their_place_in_the_array(submit):
    body = {
        "email": "a@example.com",
        "first_name": "A",
        "source": "TYPEFORM",
        "questions_answers": [{"question": "One?", "answer": "1"}, {"question": "Two?"}],
    }
    opt_in_id = _data(submit(body))["opt_in_id"]
    assert list(
        QuestionAnswer.objects.filter(opt_in_id=opt_in_id).values_list(
            "question", "answer", "position"
        )
    ) == [("One?", "1", 0), ("Two?", "", 1)]


def test_fifty_answers_are_accepted(submit):
    body = {
        **IDEMPOTENCY_EXAMPLE,
        "questions_answers": [
            {"question": f"Q{i}?", "answer": "x" * 10_000, "position": i} for i in range(50)
        ],
    }
    assert submit(body).status_code == 201
    assert QuestionAnswer.objects.count() == 50


def test_strings_at_their_length_limits_are_stored_whole(submit):
    body = {
        "email": ("a" * 64) + "@" + ("b" * 63 + ".") * 2 + "c" * 57 + ".com",
        "first_name": "F" * 150,
        "last_name": "L" * 149,
        "source": "OTHER",
        "provider_form_id": "i" * 255,
        "provider_form_name": "n" * 255,
        "external_reference": "r" * 255,
        "traffic": {
            "utm_source": "s" * 255,
            "utm_medium": "m" * 255,
            "utm_campaign": "c" * 255,
            "utm_content": "o" * 255,
            "utm_term": "t" * 255,
            "referrer": "https://r.example/" + "r" * 2030,
            "landing_page": "https://l.example/" + "l" * 2030,
        },
    }
    assert len(body["email"]) == 254

    response = submit(body)

    assert response.status_code == 201, response.json()
    opt_in = OptIn.objects.get()
    assert opt_in.email == body["email"]
    assert opt_in.external_reference == "r" * 255
    assert len(opt_in.landing_page) == 2048
    assert len(Lead.objects.get().name) == 300


@pytest.mark.parametrize("path", [SUBMIT_URL, SUBMIT_URL + "/"])
def test_path_works_with_and_without_trailing_slash(submit, path):
    response = submit(IDEMPOTENCY_EXAMPLE, path=path)
    assert response.status_code == 201


def test_bearer_authorization_is_accepted(api_client, api_key):
    response = api_client.post(
        SUBMIT_URL,
        IDEMPOTENCY_EXAMPLE,
        format="json",
        HTTP_AUTHORIZATION=f"Bearer {api_key.plaintext}",
    )
    assert response.status_code == 201


def test_a_failed_submission_is_not_recorded_so_the_corrected_retry_succeeds(submit):
    body = {**IDEMPOTENCY_EXAMPLE, "source": "LANDINGPAGE"}
    assert submit(body).status_code == 400
    assert (Lead.objects.count(), OptIn.objects.count()) == (0, 0)

    retry = submit({**body, "source": "LANDING_PAGE"})

    assert retry.status_code == 201
    assert "Idempotent-Replayed" not in retry
    assert (Lead.objects.count(), OptIn.objects.count()) == (1, 1)
