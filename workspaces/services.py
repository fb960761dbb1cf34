"""Writes for workspaces, profiles and API keys."""

import contextlib
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model, Q
from django.utils import timezone

from hushmetrics.serializers import column_max_length, model_field
from workspaces.hosts import normalise_redirect_hosts, normalise_thank_you_url
from workspaces.keys import (
    KEY_ALPHABET,
    PUBLIC_LENGTH,
    SECRET_LENGTH,
    displayed_prefix,
    is_well_formed,
    public_part,
)
from workspaces.models import (
    CLERK_USER_ID_PREFIX,
    SCOPE_COLUMNS,
    ApiKey,
    ApiKeyScope,
    Profile,
    Workspace,
)
from workspaces.selectors import api_key_get_by_prefix, workspace_get_cached

# Stamp last_used_at at most this often per key, so a busy key is not a write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)
# Compared against when the prefix is unknown, so both failures take the same path.
_DUMMY_HASH = hashlib.sha256(b"hushmetrics-unknown-key").hexdigest()


@dataclass(frozen=True)
class IssuedKey:
    api_key: ApiKey
    plaintext: str


def _hash(key: str) -> str:
    # A fast hash fits: the key is 190 bits of randomness, not a password.
    return hashlib.sha256(key.encode()).hexdigest()


def _clean_name(name: str, *, model: type[Model], label: str) -> str:
    """`name` stripped; a ValidationError when that is blank or too long for `model.name`."""
    name = name.strip()
    limit = column_max_length(model, "name")
    if not name:
        raise ValidationError({"name": f"{label} name must not be blank."})
    if len(name) > limit:
        raise ValidationError({"name": f"{label} name is too long ({limit} characters at most)."})
    return name


def _workspace_name(name: str) -> str:
    return _clean_name(name, model=Workspace, label="Workspace")


def _key_name(name: str) -> str:
    return _clean_name(name, model=ApiKey, label="Key")


def _set_changed(instance: Model, values: dict[str, Any]) -> list[str]:
    """Set on `instance` the values that differ from its own (None leaves a field as it is),
    each checked by its model field first; the names of the fields set."""
    changed = {
        field: value
        for field, value in values.items()
        if value is not None and getattr(instance, field) != value
    }
    errors: dict[str, list[str]] = {}
    for field, value in changed.items():
        try:
            changed[field] = model_field(type(instance), field).clean(value, instance)
        except ValidationError as error:
            errors[field] = error.messages
    if errors:
        raise ValidationError(errors)
    for field, value in changed.items():
        setattr(instance, field, value)
    return list(changed)


def _check_clerk_user_id(clerk_user_id: str) -> None:
    if not clerk_user_id.startswith(CLERK_USER_ID_PREFIX):
        raise ValidationError(
            {"clerk_user_id": f"A Clerk user id starts with '{CLERK_USER_ID_PREFIX}'."}
        )


@contextlib.contextmanager
def _clerk_user_id_unique(clerk_user_id: str) -> Iterator[None]:
    """A profile write whose Clerk user id the workspace already has is a ValidationError."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        raise ValidationError(
            {"clerk_user_id": f"{clerk_user_id} already has a profile in this workspace."}
        ) from None


def _redirect_settings(
    thank_you_url: str | None, allowed_redirect_hosts: str | Iterable[str] | None
) -> dict[str, str | None]:
    """The two redirect settings as stored (None: not given), each checked, both reported."""
    values: dict[str, str | None] = {"thank_you_url": None, "allowed_redirect_hosts": None}
    errors: dict[str, list[str]] = {}
    try:
        if thank_you_url is not None:
            values["thank_you_url"] = normalise_thank_you_url(thank_you_url)
    except ValidationError as error:
        errors["thank_you_url"] = error.messages
    try:
        if allowed_redirect_hosts is not None:
            values["allowed_redirect_hosts"] = normalise_redirect_hosts(allowed_redirect_hosts)
    except ValidationError as error:
        errors["allowed_redirect_hosts"] = error.messages
    if errors:
        raise ValidationError(errors)
    return values


def workspace_create(
    *,
    name: str,
    webhook_enabled: bool = True,
    require_api_key: bool = False,
    thank_you_url: str = "",
    allowed_redirect_hosts: str | Iterable[str] = "",
) -> Workspace:
    """Create a workspace; the name must not be blank, `thank_you_url` is http(s) or empty,
    `allowed_redirect_hosts` host names (`a.com`, `*.b.com`), comma-separated or a list."""
    name = _workspace_name(name)
    settings = _redirect_settings(thank_you_url, allowed_redirect_hosts)
    workspace = Workspace(
        name=name,
        webhook_enabled=webhook_enabled,
        require_api_key=require_api_key,
        thank_you_url=settings["thank_you_url"] or "",
        allowed_redirect_hosts=settings["allowed_redirect_hosts"] or "",
    )
    workspace.full_clean(validate_unique=False, validate_constraints=False)  # lengths
    workspace.save(force_insert=True)
    return workspace


@transaction.atomic
def workspace_update(
    *,
    workspace: Workspace,
    name: str | None = None,
    webhook_enabled: bool | None = None,
    require_api_key: bool | None = None,
    thank_you_url: str | None = None,
    allowed_redirect_hosts: str | Iterable[str] | None = None,
) -> Workspace:
    """Change the given fields (None leaves one as it is, "" clears a redirect setting),
    writing only the changed columns; nothing at all when nothing changes. The name must not
    be blank; the redirect settings are checked as in `workspace_create`."""
    changed = _set_changed(
        workspace,
        {
            "name": None if name is None else _workspace_name(name),
            "webhook_enabled": webhook_enabled,
            "require_api_key": require_api_key,
            **_redirect_settings(thank_you_url, allowed_redirect_hosts),
        },
    )
    if changed:
        workspace.save(update_fields=changed)
    return workspace


def profile_create(
    *,
    workspace: Workspace,
    clerk_user_id: str,
    name: str = "",
    email: str = "",
    is_active: bool = True,
) -> Profile:
    """Create a profile; its Clerk user id (`user_…`) is unique within the workspace."""
    profile = Profile(
        workspace=workspace,
        clerk_user_id=clerk_user_id,
        name=name,
        email=email,
        is_active=is_active,
    )
    profile.full_clean(validate_constraints=False)
    _check_clerk_user_id(clerk_user_id)
    with _clerk_user_id_unique(clerk_user_id):
        profile.save()
    return profile


@transaction.atomic
def profile_update(
    *,
    profile: Profile,
    clerk_user_id: str | None = None,
    name: str | None = None,
    email: str | None = None,
    is_active: bool | None = None,
) -> Profile:
    """Change the given fields (None leaves one as it is), writing only the changed columns;
    nothing at all when nothing changes. A profile stays in its workspace; an inactive one
    is no longer taken as an opt-in's setter."""
    if clerk_user_id is not None:
        _check_clerk_user_id(clerk_user_id)
    changed = _set_changed(
        profile,
        {"clerk_user_id": clerk_user_id, "name": name, "email": email, "is_active": is_active},
    )
    if changed:
        with _clerk_user_id_unique(profile.clerk_user_id):
            profile.save(update_fields=changed)
    return profile


def _scope_columns(scopes: Iterable[str]) -> dict[str, bool]:
    """The scope columns for `scopes` (at least one, each an ApiKeyScope value; a string is
    read as a comma-separated list, as `issue_api_key --scopes` takes it)."""
    if isinstance(scopes, str):
        scopes = scopes.split(",")
    wanted = {scope.strip() for scope in scopes if scope.strip()}
    unknown = sorted(wanted - set(ApiKeyScope.values))
    if unknown:
        raise ValidationError(
            {
                "scopes": f"Unknown scope {', '.join(unknown)}: "
                f"choose from {', '.join(ApiKeyScope.values)}."
            }
        )
    if not wanted:
        raise ValidationError({"scopes": "A key needs at least one scope."})
    return {column: scope.value in wanted for scope, column in SCOPE_COLUMNS.items()}


def api_key_issue(
    *,
    workspace: Workspace,
    name: str,
    expires_in_days: int | None = None,
    scopes: Iterable[str] = (ApiKeyScope.INGEST,),
) -> IssuedKey:
    """Issue a key with `scopes` (default `ingest`). The plaintext is in the result and
    nowhere else, ever."""
    name = _key_name(name)
    scope_columns = _scope_columns(scopes)
    if expires_in_days is not None and expires_in_days <= 0:
        raise ValidationError({"expires_in_days": "Must be a positive number of days."})
    now = timezone.now()
    expires_at = now + timedelta(days=expires_in_days) if expires_in_days else None
    for _attempt in range(5):
        public = "".join(secrets.choice(KEY_ALPHABET) for _ in range(PUBLIC_LENGTH))
        secret = "".join(secrets.choice(KEY_ALPHABET) for _ in range(SECRET_LENGTH))
        plaintext = displayed_prefix(public) + secret
        try:
            with transaction.atomic():
                api_key = ApiKey.objects.create(
                    workspace=workspace,
                    name=name,
                    prefix=public,
                    secret_hash=_hash(plaintext),
                    expires_at=expires_at,
                    **scope_columns,
                )
        except IntegrityError:  # a prefix collision: one in ~10^14, draw again
            continue
        return IssuedKey(api_key=api_key, plaintext=plaintext)
    raise RuntimeError("could not draw a unique API key prefix")


def api_key_verify(*, key: str) -> ApiKey | None:
    """The active key `key` is, with its workspace, or None. One query for the key; the
    workspace from this process's cache (a second query only when it is not there);
    constant-time comparison.

    Malformed, unknown, wrong-secret, revoked and expired keys all return None, and an
    unknown prefix is compared against a dummy hash so it costs what a wrong secret costs.
    """
    key = key or ""
    well_formed = is_well_formed(key)
    api_key = None
    if well_formed:
        api_key = api_key_get_by_prefix(prefix=public_part(key))
    expected = api_key.secret_hash if api_key is not None else _DUMMY_HASH
    matches = hmac.compare_digest(_hash(key), expected)
    if not (well_formed and api_key is not None and matches):
        return None
    if api_key.state_at(timezone.now()) != "active":
        return None
    # Only a verified key costs this (a wrong secret and an unknown prefix do the same
    # work): the workspace as the public endpoints read it, remembered by this process.
    workspace = workspace_get_cached(workspace_id=api_key.workspace_id)
    if workspace is None:  # deleted since the key was read (the delete takes the key too)
        return None
    api_key.workspace = workspace
    return api_key


def api_key_mark_used(*, api_key: ApiKey) -> None:
    """Stamp last_used_at, at most once a minute per key (a conditional UPDATE, no read)."""
    now = timezone.now()
    if api_key.last_used_at is not None and now - api_key.last_used_at < LAST_USED_RESOLUTION:
        return
    ApiKey.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION),
        pk=api_key.pk,
    ).update(last_used_at=now)
    api_key.last_used_at = now


@transaction.atomic
def api_key_update(*, api_key: ApiKey, name: str | None = None) -> ApiKey:
    """Rename a key (None leaves the name as it is); everything else is fixed at issue."""
    changed = _set_changed(api_key, {"name": None if name is None else _key_name(name)})
    if changed:
        api_key.save(update_fields=changed)
    return api_key


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey) -> ApiKey:
    """Revoke a key, for good. Revoking a revoked key keeps its first revocation time."""
    locked = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
    api_key.revoked_at = locked.revoked_at
    return locked
