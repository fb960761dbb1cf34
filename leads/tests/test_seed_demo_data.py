"""seed_demo_data fills a workspace with plausible leads, through COPY or big batches."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from leads.models import Lead
from workspaces.models import Workspace

pytestmark = pytest.mark.django_db(transaction=True)


def seed(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("seed_demo_data", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_seeds_a_new_workspace_and_prints_its_id():
    workspace_id, err = seed("--leads", "12345")
    workspace = Workspace.objects.get(pk=workspace_id)
    leads = Lead.objects.filter(workspace=workspace)
    assert leads.count() == 12345
    assert leads.values("email").distinct().count() == 12345
    assert "Added 12345 leads" in err
    # Spread over a year (created_at kept as generated), some spam, setters of the workspace.
    oldest, newest = leads.order_by("created_at").first(), leads.order_by("created_at").last()
    assert oldest is not None and newest is not None
    assert (newest.created_at - oldest.created_at).days > 300
    assert 0 < leads.filter(is_spam=True).count() < 12345 * 0.05
    setters = leads.exclude(setter=None).values_list("setter__workspace_id", flat=True)[:50]
    assert set(setters) == {workspace.pk}


def test_adds_to_an_existing_workspace_without_email_clashes(workspace):
    seed("--leads", "30", "--workspace", str(workspace.pk))
    out, _err = seed("--leads", "20", "--workspace", str(workspace.pk))
    assert out == str(workspace.pk)
    leads = Lead.objects.filter(workspace=workspace)
    assert leads.count() == 50
    assert leads.values("email").distinct().count() == 50


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--leads", "0"], "--leads must be a positive number."),
        (["--leads", "5", "--workspace", "nope"], "No workspace with id or name 'nope'."),
    ],
)
def test_bad_arguments_fail_clearly(args, message):
    with pytest.raises(CommandError, match=message):
        seed(*args)
    assert not Lead.objects.exists()
