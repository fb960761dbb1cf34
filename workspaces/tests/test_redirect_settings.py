"""A workspace's `thank_you_url` and `allowed_redirect_hosts` (SPEC §8): checked and stored
normalised by the services, held by the database, set from the commands and the admin."""

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError
from django.db import IntegrityError, transaction
from django.urls import reverse

from workspaces.hosts import host_allowed, normalise_redirect_hosts
from workspaces.models import Workspace
from workspaces.services import workspace_create, workspace_update
from workspaces.tests.commands import run

pytestmark = pytest.mark.django_db


def test_create_workspace_takes_both_settings_and_stores_them_normalised():
    out, _err = run(
        "create_workspace",
        "Acme",
        "--thank-you-url",
        "HTTPS://acme.example/thanks?from=form",
        "--allowed-redirect-hosts",
        "Acme.example, *.SHOP.example,bücher.example,acme.example",
    )
    workspace = Workspace.objects.get(pk=out.strip())
    assert workspace.thank_you_url == "https://acme.example/thanks?from=form"
    assert workspace.allowed_redirect_hosts == "acme.example,*.shop.example,xn--bcher-kva.example"
    assert workspace.redirect_hosts == ["acme.example", "*.shop.example", "xn--bcher-kva.example"]


def test_create_workspace_without_them_leaves_both_empty():
    out, _err = run("create_workspace", "Plain")
    workspace = Workspace.objects.get(pk=out.strip())
    assert (workspace.thank_you_url, workspace.allowed_redirect_hosts) == ("", "")
    assert workspace.redirect_hosts == []


def test_update_workspace_sets_and_clears_them(workspace):
    _out, err = run(
        "update_workspace",
        str(workspace.id),
        "--thank-you-url",
        "https://acme.example/merci",
        "--allowed-redirect-hosts",
        "a.example,*.b.example",
    )
    workspace.refresh_from_db()
    assert workspace.thank_you_url == "https://acme.example/merci"
    assert workspace.allowed_redirect_hosts == "a.example,*.b.example"
    assert "thank_you_url '' → 'https://acme.example/merci'" in err

    run("update_workspace", str(workspace.id), "--thank-you-url", "")
    workspace.refresh_from_db()
    assert workspace.thank_you_url == ""
    assert workspace.allowed_redirect_hosts == "a.example,*.b.example"  # not given: kept


@pytest.mark.parametrize(
    "url",
    [
        "ftp://acme.example/thanks",
        "javascript:alert(1)",
        "/thanks",
        "acme.example/thanks",
        "https://user:pw@acme.example/thanks",
        "https://acme.example/thanks page",
        "https://acme.example/\r\nthanks",
        "https://" + "a" * 2000 + ".example/",
    ],
)
def test_a_thank_you_url_that_is_not_absolute_http_is_refused(workspace, url):
    with pytest.raises(ValidationError) as error:
        workspace_update(workspace=workspace, thank_you_url=url)
    assert "thank_you_url" in error.value.message_dict
    assert Workspace.objects.get().thank_you_url == ""


@pytest.mark.parametrize(
    "hosts",
    [
        "https://acme.example",
        "acme.example/thanks",
        "acme.example:8443",
        "user@acme.example",
        "acme.example.",
        "*.com.",
        "*",
        "*.com",
        "a..example",
        "*acme.example",
        "acme.*.example",
    ],
)
def test_an_entry_that_is_not_a_host_name_is_refused_and_named(hosts):
    with pytest.raises(ValidationError) as error:
        workspace_create(name="Acme", allowed_redirect_hosts=f"ok.example,{hosts}")
    (message,) = error.value.message_dict["allowed_redirect_hosts"]
    assert repr(hosts) in message
    assert Workspace.objects.count() == 0


def test_a_bad_setting_fails_the_command_naming_the_field(workspace):
    with pytest.raises(CommandError, match="allowed_redirect_hosts: 'https://x.example'"):
        run("update_workspace", str(workspace.id), "--allowed-redirect-hosts", "https://x.example")
    with pytest.raises(CommandError, match="thank_you_url: Enter an absolute http"):
        run("create_workspace", "Acme", "--thank-you-url", "javascript:alert(1)")


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("thank_you_url", "javascript:alert(1)"),
        ("thank_you_url", "ftp://acme.example/"),
        ("allowed_redirect_hosts", "Acme.example"),
        ("allowed_redirect_hosts", "a.example, b.example"),
        ("allowed_redirect_hosts", "https://a.example"),
    ],
)
def test_the_database_refuses_a_value_that_bypasses_the_service(workspace, column, value):
    with pytest.raises(IntegrityError), transaction.atomic():
        Workspace.objects.filter(pk=workspace.pk).update(**{column: value})


def test_a_wildcard_matches_the_domain_and_every_subdomain_and_nothing_else():
    patterns = normalise_redirect_hosts("*.acme.example,shop.example").split(",")
    for host in ("acme.example", "www.acme.example", "a.b.ACME.example", "shop.example"):
        assert host_allowed(host, patterns), host
    for host in ("evilacme.example", "acme.example.evil", "www.shop.example", "acme.example."):
        assert not host_allowed(host, patterns), host


def test_the_admin_saves_the_settings_through_the_service_normalised(admin_client, workspace):
    change = reverse("admin:workspaces_workspace_change", args=[workspace.pk])
    data = {
        "name": workspace.name,
        "webhook_enabled": "on",
        "thank_you_url": "https://acme.example/thanks",
        "allowed_redirect_hosts": "WWW.Acme.example,  *.shop.example",
        **{
            f"{p}-{k}": "0"
            for p in ("profiles", "api_keys")
            for k in ("TOTAL_FORMS", "INITIAL_FORMS")
        },
    }
    assert admin_client.post(change, data).status_code == 302
    workspace.refresh_from_db()
    assert workspace.thank_you_url == "https://acme.example/thanks"
    assert workspace.allowed_redirect_hosts == "www.acme.example,*.shop.example"

    data.update(thank_you_url="javascript:alert(1)", allowed_redirect_hosts="https://x.example")
    response = admin_client.post(change, data)
    assert response.status_code == 200  # the form again, with its errors
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"thank_you_url", "allowed_redirect_hosts"}
    workspace.refresh_from_db()
    assert workspace.thank_you_url == "https://acme.example/thanks"
