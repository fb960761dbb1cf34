"""The pure normalisation, driven by the form builders' real payloads and variants."""

import dataclasses
from decimal import Decimal

import pytest

from leads.tests.conftest import (
    SAMPLE_NAMES,
    assert_lead_matches,
    load_sample,
    sample_fields,
    sample_files,
)
from leads.webhook import (
    EmptySubmission,
    canonical,
    expand_brackets,
    normalise,
    parse_money,
    redirect_target,
)
from leads.webhook.helpers import role_of
from leads.webhook.vocabulary import ALIASES, EXTRA_ROLES, VOCABULARY

HTML = {"Accept": "text/html,application/xhtml+xml"}


# The samples of ../shared/fixtures/form-builders/, each here under its own name.
SHARED_SAMPLES = [
    "contact-form-7.json", "elementor-advanced.json", "elementor-simple.json",
    "fluent-forms.json", "framer.json", "gravity-forms.json", "html-form.json", "jotform.json",
    "tally.json", "typeform.json", "webflow.json", "wpforms.json",
]  # fmt: skip


def test_every_sample_is_covered():
    assert set(SHARED_SAMPLES) <= set(SAMPLE_NAMES)
    # Issue 17's samples: each names the failure it shows, and cites its source.
    added = [load_sample(name) for name in SAMPLE_NAMES if name not in SHARED_SAMPLES]
    assert len(added) == 16
    assert all(sample["issue"].startswith("17.") and sample["source"] for sample in added)


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_each_builder_sample_yields_the_lead_its_expect_describes(name):
    sample = load_sample(name)
    submission = normalise(sample_fields(sample), sample["headers"], sample_files(sample))
    assert_lead_matches(dataclasses.asdict(submission), sample["expect"])
    if "location" in sample["expect"]:
        assert submission.redirect_to == sample["expect"]["location"]
    else:
        assert submission.redirect_to is None
    if sample["expect"].get("retry_is_duplicate"):
        assert submission.submission_id is not None


@pytest.mark.parametrize(
    ("name", "submission_id"),
    [
        ("framer.json", "framer:b7d1c0de-0000-4000-8000-000000000001"),
        ("tally.json", "tally:a4cb511e-d513-4fa5-baee-b815d718dfd1"),
        ("typeform.json", "typeform:01HXYZABCDEF0000000000000"),
        ("webflow.json", "webflow:6321ca84df3949bfc6752327"),
        ("jotform.json", "jotform:5912345678901234567"),
        ("contact-form-7.json", None),
        ("html-form.json", None),
    ],
)
def test_the_submission_id_comes_from_the_builders_own_id(name, submission_id):
    sample = load_sample(name)
    assert normalise(sample_fields(sample), sample["headers"]).submission_id == submission_id


def test_an_idempotency_key_header_wins_over_the_builders_id():
    sample = load_sample("tally.json")
    submission = normalise(sample_fields(sample), {"Idempotency-Key": "order-7"})
    assert submission.submission_id == "key:order-7"


def test_a_very_long_submission_id_is_hashed_to_fit_the_column():
    submission = normalise({"name": "A"}, {"Idempotency-Key": "x" * 1000})
    assert submission.submission_id is not None
    assert submission.submission_id.startswith("key:sha256:")
    assert len(submission.submission_id) == len("key:sha256:") + 64


def test_the_documented_json_request_normalises_to_the_documented_lead():
    body = {
        "name": "John Smith",
        "email": "john@example.com",
        "source": "website",
        "utm_source": "google",
        "utm_medium": "cpc",
        "company": "Acme Inc",
        "message": "I'd like a demo",
    }
    submission = normalise(body, {"Referer": "https://example.com/contact"})
    assert submission == dataclasses.replace(
        submission,
        name="John Smith",
        email="john@example.com",
        phone="",
        source="website",
        value=Decimal("0.00"),
        utm={"utm_source": "google", "utm_medium": "cpc"},
        extra_data={"company": "Acme Inc", "message": "I'd like a demo"},
        page_url="https://example.com/contact",
        is_spam=False,
        submission_id=None,
    )


@pytest.mark.parametrize(
    ("key", "field"),
    [
        ("Name", "name"),
        ("full_name", "name"),
        ("Full Name", "name"),
        ("your-name", "name"),
        ("E-mail", "email"),
        ("email_address", "email"),
        ("Email Address", "email"),
        ("your-email", "email"),
        ("EMAIL", "email"),
        ("tel", "phone"),
        ("phone_number", "phone"),
        ("Phone Number", "phone"),
        ("your-phone", "phone"),
        ("Page URL", "page_url"),
        ("source_url", "page_url"),
        ("landing_page", "page_url"),
        ("landing-page", "page_url"),
    ],
)
def test_builders_spellings_map_onto_the_known_fields(key, field):
    submission = normalise({key: "x@example.com", "other": "kept"}, {})
    assert getattr(submission, field) == "x@example.com"
    assert submission.extra_data == {"other": "kept"}


def test_first_and_last_name_compose_the_name_and_are_kept():
    submission = normalise({"First Name": "Ana", "Last Name": "Silva"}, {})
    assert submission.name == "Ana Silva"
    assert submission.extra_data == {"First Name": "Ana", "Last Name": "Silva"}


def test_a_name_field_wins_over_its_parts():
    submission = normalise({"name": "Ana S.", "first_name": "Ana", "last_name": "Silva"}, {})
    assert submission.name == "Ana S."
    assert submission.extra_data == {"first_name": "Ana", "last_name": "Silva"}


def test_a_single_field_holding_an_address_becomes_the_email():
    submission = normalise({"1": "Ana", "2": "ana@example.com", "3": "hello"}, {})
    assert submission.email == "ana@example.com"
    assert submission.extra_data == {"1": "Ana", "3": "hello"}


def test_two_fields_holding_addresses_are_left_alone():
    fields = {"a": "ana@example.com", "b": "bob@example.com"}
    submission = normalise(fields, {})
    assert submission.email == ""
    assert submission.extra_data == fields


def test_a_second_spelling_of_a_filled_field_goes_to_extra_data():
    submission = normalise({"email": "a@example.com", "E-mail": "b@example.com"}, {})
    assert submission.email == "a@example.com"
    assert submission.extra_data == {"E-mail": "b@example.com"}


@pytest.mark.parametrize(
    ("raw", "source", "kept"),
    [
        ("website", "website", None),
        ("WEBSITE", "website", None),
        ("Cold Call", "cold_call", None),
        ("cold-call", "cold_call", None),
        ("Facebook", "other", "Facebook"),
        (7, "other", 7),
    ],
)
def test_source_is_lenient_and_keeps_an_unknown_raw_value(raw, source, kept):
    submission = normalise({"name": "A", "source": raw}, {})
    assert submission.source == source
    assert (submission.extra_data or {}).get("source") == kept


@pytest.mark.parametrize(
    ("raw", "value", "kept"),
    [
        ("1,500.50", Decimal("1500.50"), None),
        ("1.500,50", Decimal("1500.50"), None),
        ("12,50", Decimal("12.50"), None),
        ("1,500,000", Decimal("1500000.00"), None),
        ("$ 99", Decimal("99.00"), None),
        ("99 EUR", Decimal("99.00"), None),
        ("R$1.500,00", Decimal("1500.00"), None),
        ("12abc", Decimal("0.00"), "12abc"),
        (250, Decimal("250.00"), None),
        (19.99, Decimal("19.99"), None),
        ("lots", Decimal("0.00"), "lots"),
        ("-5", Decimal("0.00"), "-5"),
        (True, Decimal("0.00"), True),
        ("1e999", Decimal("0.00"), "1e999"),
        ("9999999999999", Decimal("0.00"), "9999999999999"),
    ],
)
def test_value_is_parsed_leniently_and_keeps_an_unparsable_raw_value(raw, value, kept):
    submission = normalise({"name": "A", "value": raw}, {})
    assert submission.value == value
    assert (submission.extra_data or {}).get("value") == kept


def test_parse_money_rounds_to_cents():
    assert parse_money("10.005") == Decimal("10.00")  # banker's rounding, as Decimal does
    assert parse_money("") is None


def test_a_posted_status_is_kept_and_never_applied():
    submission = normalise({"name": "A", "status": "won"}, {})
    assert not hasattr(submission, "status")
    assert submission.extra_data == {"status": "won"}


def test_protected_fields_are_only_kept_in_extra_data():
    fields = {
        "name": "A",
        "id": "1",
        "workspace_id": "w",
        "is_spam": "false",
        "created_by": "p",
        "submission_id": "s",
    }
    submission = normalise(fields, {})
    assert submission.is_spam is False
    assert submission.submission_id is None
    assert submission.extra_data == {
        "id": "1",
        "workspace_id": "w",
        "is_spam": "false",
        "created_by": "p",
        "submission_id": "s",
    }


def test_every_utm_field_is_grouped_whatever_its_spelling():
    fields = {
        "name": "A",
        "utm_source": "google",
        "UTM Medium": "cpc",
        "utm-campaign": "spring",
        "utm_term": "crm",
        "utm_content": "user_1",
        "utm_id": "42",
        "utm_empty": "",
    }
    submission = normalise(fields, {})
    assert submission.utm == {
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "spring",
        "utm_term": "crm",
        "utm_content": "user_1",
        "utm_id": "42",
    }
    assert submission.extra_data is None


def test_a_utm_object_is_grouped_too():
    submission = normalise({"name": "A", "utm": {"source": "x", "utm_medium": "y"}}, {})
    assert submission.utm == {"utm_source": "x", "utm_medium": "y"}


def test_page_url_comes_from_the_body_before_the_referer():
    referer = {"Referer": "https://example.com/from-header"}
    assert normalise({"name": "A"}, referer).page_url == "https://example.com/from-header"
    body = {"name": "A", "page_url": "https://example.com/from-body"}
    assert normalise(body, referer).page_url == "https://example.com/from-body"
    assert normalise({"name": "A"}, {}).page_url is None


def test_only_the_four_control_fields_are_not_stored():
    fields = {
        "name": "A",
        "_subject": "New lead",
        "_next": "https://x.example/",
        "_redirect": "https://x.example/",
        "_gotcha": "",
        "_honeypot": "",
        "_cc": "boss@example.com",
    }
    submission = normalise(fields, {})
    # SPEC A.2 round 2: every other field, `_` or not, is kept.
    assert submission.extra_data == {"_subject": "New lead", "_cc": "boss@example.com"}
    assert submission.is_spam is False


@pytest.mark.parametrize("honeypot", ["_gotcha", "_honeypot"])
def test_a_filled_honeypot_marks_spam(honeypot):
    assert normalise({"name": "A", honeypot: "http://spam.example"}, {}).is_spam is True


@pytest.mark.parametrize(
    ("headers", "target"),
    [
        ({**HTML, "Origin": "https://shop.example.com"}, "https://shop.example.com/thanks"),
        (
            {**HTML, "Referer": "https://shop.example.com/contact"},
            "https://shop.example.com/thanks",
        ),
        ({**HTML, "Origin": "https://evil.example"}, None),
        ({**HTML, "Origin": "null", "Referer": "https://evil.example/x"}, None),
        ({**HTML}, None),
        ({"Accept": "application/json", "Origin": "https://shop.example.com"}, None),
    ],
)
def test_next_is_followed_only_to_the_posting_pages_host(headers, target):
    controls = {"_next": "https://shop.example.com/thanks"}
    assert redirect_target(controls, headers) == target


def test_a_non_http_next_is_never_followed():
    headers = {**HTML, "Origin": "https://shop.example.com"}
    assert redirect_target({"_redirect": "javascript:alert(1)"}, headers) is None
    assert redirect_target({"_redirect": "https://shop.example.com/ok"}, headers) == (
        "https://shop.example.com/ok"
    )


def test_nul_characters_are_stripped_everywhere():
    submission = normalise({"na\x00me": "A\x00na", "note": ["x\x00"], "d": {"k\x00": "v\x00"}}, {})
    assert submission.name == "Ana"
    assert submission.extra_data == {"note": ["x"], "d": {"k": "v"}}


@pytest.mark.parametrize("fields", [{}, {"_gotcha": ""}, {"__submission": {"id": 1}}])
def test_a_body_without_fields_is_empty(fields):
    with pytest.raises(EmptySubmission):
        normalise(fields, {})


def test_overlong_known_fields_are_cut_to_fit_and_kept_whole():
    long_name = "N" * 400
    submission = normalise({"name": long_name}, {})
    assert submission.name == "N" * 300
    assert submission.extra_data == {"name": long_name}


def test_an_overlong_page_url_is_kept_in_extra_data():
    url = "https://example.com/" + "a" * 3000
    submission = normalise({"name": "A", "page_url": url}, {})
    assert submission.page_url is None
    assert submission.extra_data == {"page_url": url}


def test_numbers_in_known_text_fields_become_text():
    submission = normalise({"name": "A", "phone": 15550000000, "Email": "a@example.com"}, {})
    assert submission.phone == "15550000000"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("E-mail", "e_mail"),
        ("Page URL", "page_url"),
        ("your-name", "your_name"),
        ("Email*", "email"),
    ],
)
def test_canonical_spelling(key, expected):
    assert canonical(key) == expected


def test_bracket_keys_nest_like_php_and_never_overwrite_a_plain_key():
    fields = {"a[b]": "1", "a[c][d]": "2", "tags[]": ["x", "y"], "x": "plain", "x[y]": "z"}
    assert expand_brackets(fields) == {
        "a": {"b": "1", "c": {"d": "2"}},
        "tags": ["x", "y"],
        "x": "plain",
        "x[y]": "z",
    }


# --- builder variants beyond the samples ----------------------------------------------------


def test_fluent_forms_form_encoded_unwraps_like_its_json():
    fields = {
        "names[first_name]": "Ana",
        "names[last_name]": "Silva",
        "email": "ana@example.com",
        "__submission[source_url]": "https://site.example.com/contact",
    }
    submission = normalise(fields, {})
    assert (submission.name, submission.email) == ("Ana Silva", "ana@example.com")
    assert submission.page_url == "https://site.example.com/contact"
    assert submission.extra_data == {"first_name": "Ana", "last_name": "Silva"}


def test_elementor_advanced_uses_titles_for_auto_named_fields():
    fields = {
        "fields[field_a1b2][title]": "Company",
        "fields[field_a1b2][value]": "Acme",
        "fields[email][value]": "ana@example.com",
    }
    submission = normalise(fields, {})
    assert submission.email == "ana@example.com"
    assert submission.extra_data == {"Company": "Acme"}


def test_typeform_choices_and_typed_email_without_a_ref():
    body = {
        "event_id": "e1",
        "form_response": {
            "definition": {"fields": [{"id": "f1", "title": "Work address"}]},
            "answers": [
                {"type": "email", "email": "l@example.com", "field": {"id": "f1", "ref": "r-1"}},
                {
                    "type": "choice",
                    "choice": {"label": "Big"},
                    "field": {"id": "f2", "ref": "size"},
                },
                {
                    "type": "choices",
                    "choices": {"labels": ["A", "B"]},
                    "field": {"id": "f3", "ref": "tags"},
                },
            ],
        },
    }
    submission = normalise(body, {})
    assert submission.email == "l@example.com"
    assert submission.extra_data == {"size": "Big", "tags": ["A", "B"]}


def test_tally_choice_ids_become_their_option_texts():
    body = {
        "eventId": "t1",
        "data": {
            "fields": [
                {"label": "Email", "type": "INPUT_EMAIL", "value": "t@example.com"},
                {
                    "label": "Plan",
                    "type": "MULTIPLE_CHOICE",
                    "value": ["o2"],
                    "options": [{"id": "o1", "text": "Free"}, {"id": "o2", "text": "Pro"}],
                },
            ]
        },
    }
    submission = normalise(body, {})
    assert submission.extra_data == {"Plan": "Pro"}


def test_jotform_with_an_unreadable_raw_request_keeps_it():
    body = {"submissionID": "9", "rawRequest": "{not json", "formTitle": "Contact"}
    submission = normalise(body, {})
    assert submission.extra_data == {"formTitle": "Contact", "rawRequest": "{not json"}
    assert submission.submission_id == "jotform:9"


def test_jotform_phone_object_becomes_the_phone():
    raw = '{"q3_name": {"first": "N", "last": "P"}, "q6_phoneNumber": {"full": "(555) 123-4567"}}'
    submission = normalise({"submissionID": "9", "rawRequest": raw}, {})
    assert submission.name == "N P"
    assert submission.phone == "(555) 123-4567"


# --- nothing is dropped (found by the property tests in test_webhook_properties.py) ---------


@pytest.mark.parametrize(
    ("fields", "extra_data"),
    [
        # names that differ only by NULs are one repeated key
        ({"a": "1", "a\x00": "2"}, {"a": ["1", "2"]}),
        # an extra_data object's key that a posted field also uses keeps both values
        ({"extra_data[source]": "x", "source": "Facebook"}, {"source": ["x", "Facebook"]}),
        # a second spelling of a utm field, plain or inside a utm object
        ({"utm_source": "a", "UTM Source": "b"}, {"UTM Source": "b"}),
        ({"utm_source": "a", "utm[source]": "b"}, {"utm": {"source": "b"}}),
        # a name part that a posted field already fills
        (
            {"names[first_name]": "A", "first_name": "B"},
            {"first_name": "B", "names_first_name": "A"},
        ),
        # Jotform: an unreadable rawRequest keeps `pretty`, the only readable copy of the answers
        ({"rawRequest": "{x", "pretty": "Name:Ana"}, {"rawRequest": "{x", "pretty": "Name:Ana"}),
        ({"rawRequest": "{}", "submissionID": "1"}, {"rawRequest": "{}"}),
        # Elementor: a top-level field that is not its `meta`/`form` object
        ({"meta": "m", "fields[email][value]": "a@example.com"}, {"meta": "m"}),
        # Webflow: fields beside `payload`
        ({"payload[data][email]": "a@example.com", "note": "n"}, {"note": "n"}),
        # a `form_response` that is not Typeform's (no answers) is a plain nested field
        ({"form_response[x]": "y"}, {"form_response": {"x": "y"}}),
    ],
)
def test_colliding_and_builder_shaped_fields_are_all_kept(fields, extra_data):
    assert normalise(fields, {}).extra_data == extra_data


def test_a_top_level_field_beside_elementors_fields_is_kept():
    submission = normalise({"name": "Top", "fields[name][value]": "Ana"}, {})
    # One field posted twice: the first answer is the name, both are kept, in order.
    assert submission.name == "Ana"
    assert submission.extra_data == {"name": ["Ana", "Top"]}


# --- issue 17: every answer kept, files described, the six languages ------------------------


def test_a_field_sent_twice_gives_its_first_answer_and_keeps_both():
    submission = normalise({"email": ["", "a@example.com", "b@example.com"], "x": "1"}, {})
    assert submission.email == "a@example.com"
    assert submission.extra_data == {"email": ["", "a@example.com", "b@example.com"], "x": "1"}


def test_the_same_answer_to_two_questions_is_kept_twice():
    body = {
        "eventId": "e-1",
        "data": {
            "fields": [
                {"key": "a", "label": "Why?", "type": "INPUT_TEXT", "value": "Price"},
                {"key": "b", "label": "Why?", "type": "INPUT_TEXT", "value": "Price"},
            ]
        },
    }
    assert normalise(body, {}).extra_data == {"Why?": ["Price", "Price"]}


def test_files_are_described_beside_the_fields_never_read_as_one():
    cv = {"name": "cv.pdf", "size": 10, "content_type": "application/pdf"}
    photo = {"name": "me@example.com", "size": 3, "content_type": "image/png"}
    submission = normalise({"name": "Ana"}, {}, {"email": photo, "cv": [cv, cv]})
    # A file named like an address, under a field named `email`, is not the lead's email.
    assert (submission.name, submission.email) == ("Ana", "")
    assert submission.extra_data == {"email": photo, "cv": [cv, cv]}


def test_a_body_of_files_alone_is_a_submission():
    cv = {"name": "cv.pdf", "size": 10, "content_type": "application/pdf"}
    assert normalise({"_gotcha": ""}, {}, {"cv": cv}).extra_data == {"cv": cv}


def test_formspree_replyto_is_the_email_and_subject_is_kept():
    submission = normalise({"_replyto": "ana@example.com", "_subject": "Hi", "_next": "/x"}, {})
    assert (submission.email, submission.extra_data) == ("ana@example.com", {"_subject": "Hi"})


def test_contact_form_7_url_is_the_page_and_site_addresses_are_never_the_email():
    fields = {"_url": "https://site.example/contact", "_site_admin_email": "owner@site.example"}
    submission = normalise({"your-name": "Ana", **fields}, {"Referer": "https://other.example"})
    assert (submission.page_url, submission.email) == ("https://site.example/contact", "")
    assert submission.extra_data == {"_site_admin_email": "owner@site.example"}


def test_a_plain_url_field_is_not_the_page():
    # `_url` is Contact Form 7's page; a form's own `url` is the visitor's website.
    submission = normalise({"name": "Ana", "url": "https://ana.example"}, {})
    assert (submission.page_url, submission.extra_data) == (None, {"url": "https://ana.example"})


@pytest.mark.parametrize(
    ("fields", "name", "email", "phone"),
    [
        (
            {"Nome": "Ana", "Sobrenome": "Silva", "E-mail": "a@x.br", "Telefone": "1"},
            "Ana Silva", "a@x.br", "1",
        ),
        (
            {"Nombre": "Lucía", "Apellidos": "García", "Correo": "l@x.es", "Teléfono": "2"},
            "Lucía García", "l@x.es", "2",
        ),
        (
            {"Prénom": "Chloé", "Nom": "Martin", "Courriel": "c@x.fr", "Téléphone": "3"},
            "Chloé Martin", "c@x.fr", "3",
        ),
        (
            {"Vorname": "Jürgen", "Nachname": "Müller", "E-Mail-Adresse": "j@x.de", "Handy": "4"},
            "Jürgen Müller", "j@x.de", "4",
        ),
        (
            {"Nome": "Giulia", "Cognome": "Rossi", "Posta elettronica": "g@x.it", "Cellulare": "5"},
            "Giulia Rossi", "g@x.it", "5",
        ),
        # alone, a word that is a first name in one form and the whole name in another
        ({"Nombre": "Lucía García"}, "Lucía García", "", ""),
        ({"Nom": "Chloé Martin"}, "Chloé Martin", "", ""),
        ({"Nome completo": "Ana Silva"}, "Ana Silva", "", ""),
    ],
)  # fmt: skip
def test_labels_in_six_languages_fill_the_lead(fields, name, email, phone):
    submission = normalise(fields, {})
    assert (submission.name, submission.email, submission.phone) == (name, email, phone)


@pytest.mark.parametrize(
    ("key", "role"),
    [
        ("Empresa", "company"), ("Société", "company"), ("Firma", "company"),
        ("Azienda", "company"), ("Company name", "company"),
        ("Mensagem", "message"), ("Mensaje", "message"), ("Votre message", "message"),
        ("Nachricht", "message"), ("Messaggio", "message"), ("Your message", "message"),
        ("Teléfono", "phone"), ("Reply-To", "email"), ("Straße", None),
    ],
)  # fmt: skip
def test_role_of_names_company_and_message_too(key, role):
    assert role_of(key) == role


def test_company_and_message_stay_under_their_posted_keys():
    submission = normalise({"name": "A", "Empresa": "Acme", "Mensagem": "Olá"}, {})
    assert submission.extra_data == {"Empresa": "Acme", "Mensagem": "Olá"}


def test_the_vocabulary_is_one_table_of_canonical_spellings_each_with_one_role():
    spellings = [spelling for group in VOCABULARY.values() for spelling in group]
    assert [spelling for spelling in spellings if canonical(spelling) != spelling] == []
    assert len(spellings) == len(set(spellings))
    assert set(ALIASES) | {s for role in EXTRA_ROLES for s in VOCABULARY[role]} == set(spellings)


def test_typeform_variables_are_the_forms_not_the_persons():
    body = {
        "event_id": "e",
        "form_response": {
            "answers": [
                {"type": "email", "email": "a@x.com", "field": {"id": "1", "ref": "email"}}
            ],
            "variables": [
                {"key": "name", "type": "text", "text": "typeform"},
                {"key": "price", "type": "number", "number": 10},
            ],
            "calculated": {"score": 3},
        },
    }
    submission = normalise(body, {})
    assert (submission.name, submission.email) == ("", "a@x.com")
    assert submission.extra_data == {"variables": {"name": "typeform", "price": 10}, "score": 3}


def test_jotform_upload_names_stand_in_when_its_urls_are_missing():
    raw = '{"q3_email": "a@x.com", "temp_upload": {"q4_cv": ["cv.pdf#jotformfs-1"]}}'
    submission = normalise({"submissionID": "1", "rawRequest": raw}, {})
    assert (submission.email, submission.extra_data) == ("a@x.com", {"cv": ["cv.pdf#jotformfs-1"]})


def test_webflow_v1_needs_its_whole_shape():
    # A form that happens to post `data` and `_id` among other fields is not Webflow's.
    submission = normalise({"name": "Ana", "data": {"x": "1"}, "_id": "9", "plan": "pro"}, {})
    assert submission.name == "Ana"
    assert submission.submission_id is None
