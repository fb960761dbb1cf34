"""The shared serializer fields: cheap per-request copies that stay independent."""

import copy

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
    first = OptInSubmitSerializer(data={}).fields["questions_answers"].child
    second = OptInSubmitSerializer(data={}).fields["questions_answers"].child
    assert first.fields["position"] is not second.fields["position"]
    assert first.fields["position"].parent is first


def test_a_bound_field_is_copied_the_drf_way():
    bound = QuestionAnswerSerializer(data={}).fields["question"]
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
