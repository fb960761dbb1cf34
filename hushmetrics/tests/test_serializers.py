"""The shared serializer plumbing: cheap per-request copies that stay independent, and the
one refuser of unknown fields."""

import copy

import pytest
from rest_framework import serializers

from hushmetrics.serializers import StrictSerializer
from leads.serializers import LeadCreateInputSerializer
from optin.serializers import OptInSubmitSerializer, QuestionAnswerSerializer


def test_each_serializer_instance_gets_its_own_bound_fields():
    first, second = OptInSubmitSerializer(data={}), OptInSubmitSerializer(data={})
    for name in ("email", "source", "external_reference"):
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first
        assert second.fields[name].parent is second
        assert first.fields[name].field_name == name
    # The class's declared fields are never bound themselves.
    declared = OptInSubmitSerializer._declared_fields["email"]
    assert (declared.field_name, declared.parent) == (None, None)


def test_nested_fields_are_bound_to_their_own_serializer():
    first_list = OptInSubmitSerializer(data={}).fields["questions_answers"]
    second_list = OptInSubmitSerializer(data={}).fields["questions_answers"]
    assert isinstance(first_list, serializers.ListSerializer)
    assert isinstance(second_list, serializers.ListSerializer)
    first, second = first_list.child, second_list.child
    assert isinstance(first, QuestionAnswerSerializer)
    assert isinstance(second, QuestionAnswerSerializer)
    assert first.fields["position"] is not second.fields["position"]
    assert first.fields["position"].parent is first


def test_a_bound_field_is_copied_the_drf_way():
    bound = QuestionAnswerSerializer(data={}).fields["question"]
    assert isinstance(bound, serializers.CharField)
    clone = copy.deepcopy(bound)
    assert clone is not bound
    assert (clone.field_name, clone.parent) == (None, None)
    assert clone.max_length == bound.max_length


def test_errors_from_one_instance_do_not_reach_the_next():
    bad = LeadCreateInputSerializer(data={"workspace_id": 42, "value": "500"})
    assert not bad.is_valid()
    assert set(bad.errors) == {"workspace_id", "value"}
    good = LeadCreateInputSerializer(data={"workspace_id": "8c3f2a0e-8c1b-4f55-9d6e-2f1f7d6b9a10"})
    assert good.is_valid(), good.errors
    assert good.validated_data["value"] == 0


NOT_AN_OBJECT = "Invalid data. Expected a dictionary, but got list."


class _Strict(StrictSerializer):
    name = serializers.CharField()


class _Reworded(_Strict):
    default_error_messages = {"unknown_field": "No {name} here."}


@pytest.mark.parametrize(
    ("serializer", "data", "errors"),
    [
        (_Strict, {"name": "x", "nmae": "y"}, {"nmae": ["nmae is not a recognised field"]}),
        (
            _Strict,
            {"nmae": "y"},
            {"name": ["This field is required."], "nmae": ["nmae is not a recognised field"]},
        ),
        (_Reworded, {"name": "x", "age": 3}, {"age": ["No age here."]}),
        (
            _Strict,
            ["name"],
            {"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]},
        ),
    ],
)
def test_unknown_fields_are_refused_alongside_every_other_error(serializer, data, errors):
    refused = serializer(data=data)
    assert not refused.is_valid()
    assert refused.errors == errors


def test_both_surfaces_refuse_unknown_fields_with_the_shared_serializer():
    assert issubclass(LeadCreateInputSerializer, StrictSerializer)
    assert issubclass(OptInSubmitSerializer, StrictSerializer)
    assert issubclass(QuestionAnswerSerializer, StrictSerializer)
