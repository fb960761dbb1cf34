"""Admin login attempts are rate limited per client IP and per username (hushmetrics/admin_site)."""

import logging
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings

from hushmetrics import settings as configured
from hushmetrics.tests.caches import unreachable_redis

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
PASSWORD = "correct horse battery staple"
REFUSED = "Too many login attempts."


@pytest.fixture(autouse=True)
def _limits(settings):
    # Every attempt hashes a password; PBKDF2's real cost would make these tests crawl.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # The default counts per minute; per hour, no test can straddle a window's end.
    settings.RATE_LIMIT_ADMIN_LOGIN_IP = "10/h"
    settings.RATE_LIMIT_ADMIN_LOGIN_USERNAME = "5/h"


@pytest.fixture
def staff():
    return get_user_model().objects.create_superuser("ops", "ops@example.com", PASSWORD)


def attempt(client: Client, username: str, password: str, ip: str, **extra: Any):
    body = {"username": username, "password": password, "next": "/admin/"}
    return client.post(LOGIN, body, REMOTE_ADDR=ip, **extra)


def assert_logged_in(client: Client, response, staff) -> None:
    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert client.session["_auth_user_id"] == str(staff.pk)


def assert_refused(client: Client, response) -> None:
    assert response.status_code == 429
    assert response["Content-Type"].startswith("text/html")
    assert 1 <= int(response["Retry-After"]) <= 3600
    body = response.content.decode()
    assert REFUSED in body
    assert 'href="/admin/login/"' in body  # the way back to the form
    assert "Django administration" in body  # an admin page, styled like the login form
    assert "_auth_user_id" not in client.session


def test_the_defaults_are_ten_a_minute_per_ip_and_five_per_username():
    assert configured.RATE_LIMIT_ADMIN_LOGIN_IP == "10/m"
    assert configured.RATE_LIMIT_ADMIN_LOGIN_USERNAME == "5/m"


def test_past_the_ip_limit_even_the_right_password_gets_a_429(client, staff):
    # Ten wrong guesses from one address, each for a different name (no username bucket fills).
    for index in range(10):
        response = attempt(client, f"guess{index}", "wrong", "203.0.113.5")
        assert response.status_code == 200
        assert "Please enter the correct username and password" in response.content.decode()

    assert_refused(client, attempt(client, "ops", PASSWORD, "203.0.113.5"))


def test_another_ip_is_unaffected(client, settings, staff):
    settings.RATE_LIMIT_ADMIN_LOGIN_IP = "3/h"
    for index in range(3):
        assert attempt(client, f"guess{index}", "wrong", "203.0.113.5").status_code == 200
    assert_refused(client, attempt(client, "ops", PASSWORD, "203.0.113.5"))

    assert_logged_in(client, attempt(client, "ops", PASSWORD, "198.51.100.20"), staff)


def test_past_the_username_limit_that_ip_is_refused_for_that_name(client, staff):
    # Five guesses at one account from one address: the sixth is refused, the right password
    # too, though the address has attempts left for other names.
    for _ in range(5):
        assert attempt(client, "ops", "wrong", "203.0.113.5").status_code == 200
    assert_refused(client, attempt(client, "ops", PASSWORD, "203.0.113.5"))
    # The same name in other capitals shares the bucket.
    assert_refused(client, attempt(client, " OPS ", PASSWORD, "203.0.113.5"))
    assert attempt(client, "guess", "wrong", "203.0.113.5").status_code == 200


def test_nobody_can_lock_staff_out_from_elsewhere(client, staff):
    # Someone posts `ops` with wrong passwords from other addresses, past the per-name limit
    # at each; the member of staff, from their own address, still logs in.
    for index in range(3):
        for _ in range(6):
            attempt(client, "ops", "wrong", f"203.0.113.{index + 1}")
        assert_refused(client, attempt(client, "ops", PASSWORD, f"203.0.113.{index + 1}"))

    assert_logged_in(client, attempt(client, "ops", PASSWORD, "198.51.100.20"), staff)


def test_a_spoofed_x_forwarded_for_does_not_reset_the_ip_quota(client, settings, staff):
    settings.RATE_LIMIT_ADMIN_LOGIN_IP = "3/h"
    for index in range(3):
        response = attempt(
            client, f"guess{index}", "wrong", "203.0.113.5", HTTP_X_FORWARDED_FOR=f"10.0.0.{index}"
        )
        assert response.status_code == 200
    assert_refused(
        client, attempt(client, "ops", PASSWORD, "203.0.113.5", HTTP_X_FORWARDED_FOR="10.9.9.9")
    )


def test_showing_the_login_form_is_never_limited(client, settings, staff):
    settings.RATE_LIMIT_ADMIN_LOGIN_IP = "2/h"
    for index in range(3):
        attempt(client, f"guess{index}", "wrong", "203.0.113.5")
    assert_refused(client, attempt(client, "ops", PASSWORD, "203.0.113.5"))

    for _ in range(5):
        page = client.get(LOGIN, REMOTE_ADDR="203.0.113.5")
        assert page.status_code == 200
        assert 'name="password"' in page.content.decode()
        assert REFUSED not in page.content.decode()


def test_a_logged_in_session_is_not_limited_by_failed_logins_elsewhere(client, settings, staff):
    settings.RATE_LIMIT_ADMIN_LOGIN_IP = "2/h"
    assert_logged_in(client, attempt(client, "ops", PASSWORD, "203.0.113.5"), staff)
    for index in range(3):
        attempt(Client(), f"guess{index}", "wrong", "203.0.113.5")

    # Only the login form is guarded: staff already in keep working from that address.
    assert client.get("/admin/", REMOTE_ADDR="203.0.113.5").status_code == 200


def test_cache_down_lets_login_attempts_through_and_logs_it(client, staff, caplog):
    # The production Redis client pointed at a port nothing listens on: every call fails.
    unreachable = unreachable_redis()
    caplog.set_level(logging.WARNING, logger="hushmetrics.ratelimit")
    with override_settings(CACHES=unreachable, RATE_LIMIT_ADMIN_LOGIN_IP="1/h"):
        assert attempt(client, "ops", "wrong", "203.0.113.5").status_code == 200
        assert_logged_in(client, attempt(client, "ops", PASSWORD, "203.0.113.5"), staff)

    assert "rate limit cache unavailable; letting admin-login-ip through" in caplog.text
