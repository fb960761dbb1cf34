"""The back office's admin site: Django's own, with login attempts rate limited.

Installed in place of `django.contrib.admin` (INSTALLED_APPS), so `admin.site` and every
`@admin.register` use it.
"""

from typing import Any

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from rest_framework.exceptions import Throttled

from hushmetrics.errors import throttled_wait
from hushmetrics.ratelimit import client_ip, enforce_rate_limit

LOGIN_IP_GROUP = "admin-login-ip"
LOGIN_USERNAME_GROUP = "admin-login-username"


class HushmetricsAdminSite(admin.AdminSite):
    @method_decorator(never_cache)
    @login_not_required
    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """Every POST counts against the client IP, and against the username it names from
        that IP; past either limit the attempt is refused with a 429 page before any password
        is checked. The username's count is per IP so that nobody can lock a member of staff
        out of the back office by posting their name from elsewhere.

        Successful attempts count too: the check is made before the password hash, so a burst
        of parallel guesses cannot slip past a count that is only taken after each failure.
        GETs (showing the form) are never limited.
        """
        if request.method == "POST":
            wait = self._login_wait(request)
            if wait is not None:
                return self._too_many_login_attempts(request, wait)
        return super().login(request, extra_context)

    def _login_wait(self, request: HttpRequest) -> int | None:
        """Count this attempt; the seconds to wait if its IP or its username is past the limit.

        The counting is the API's (hushmetrics.ratelimit), fail-open included.
        """
        # Usernames are matched case-sensitively, but one bucket for every spelling of a name
        # only makes the limit stricter.
        username = request.POST.get("username", "").strip().casefold()
        try:
            enforce_rate_limit(
                request,
                group=LOGIN_IP_GROUP,
                key=client_ip(request),
                rate=settings.RATE_LIMIT_ADMIN_LOGIN_IP,
            )
            if username:
                enforce_rate_limit(
                    request,
                    group=LOGIN_USERNAME_GROUP,
                    key=f"{username}@{client_ip(request)}",
                    rate=settings.RATE_LIMIT_ADMIN_LOGIN_USERNAME,
                )
        except Throttled as throttled:
            return max(1, throttled_wait(throttled) or 1)
        return None

    def _too_many_login_attempts(self, request: HttpRequest, wait: int) -> HttpResponse:
        response = TemplateResponse(
            request,
            "admin/login_rate_limited.html",
            {**self.each_context(request), "title": "Too many login attempts", "wait": wait},
            status=429,
        )
        response["Retry-After"] = str(wait)
        return response


class HushmetricsAdminConfig(AdminConfig):
    default_site = "hushmetrics.admin_site.HushmetricsAdminSite"
