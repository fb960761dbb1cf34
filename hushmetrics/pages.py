"""HTML pages for people in a browser (SPEC §8): who counts as a browser, how a page is
answered (our own templates under `templates/pages/`, a strict Content-Security-Policy), and
the error page a browser's failed form post gets instead of JSON.
"""

from typing import Any
from urllib.parse import urlsplit, urlunsplit

from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string

# Our pages load their one stylesheet and script from our own static files and nothing else.
PAGE_CSP = (
    "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
# A back link longer than this is left out rather than carried in a URL.
MAX_LINK_LENGTH = 2000

# What a browser's failed form post shows: a title, and one sentence saying what went wrong
# and what to do. Other statuses (405, 500) keep their JSON answer (SPEC §3, §8).
ERROR_PAGES: dict[int, tuple[str, str]] = {
    400: (
        "Nothing was sent",
        "The form arrived empty or could not be read, so nothing was saved: go back, fill "
        "it in and send it again.",
    ),
    401: (
        "Form not accepted",
        "This form's access key was refused, so your message was not saved: please let the "
        "site owner know, or contact them another way.",
    ),
    404: (
        "Form not connected",
        "This form is not connected to an active inbox, so your message was not saved: "
        "please let the site owner know, or contact them another way.",
    ),
    409: (
        "Already sent",
        "This submission was already sent with different answers, so this one was not "
        "saved: go back, reload the form and send it again.",
    ),
    413: (
        "Too large to send",
        "The form was too large to send (an attached file may be too big), so nothing was "
        "saved: go back, make it smaller and send it again.",
    ),
    415: (
        "Form not readable",
        "The form was sent in a format this service cannot read, so nothing was saved: "
        "please let the site owner know, or contact them another way.",
    ),
    429: (
        "Too many messages",
        "Too many messages were sent from here in a short time, so this one was not saved: "
        "wait a minute, then go back and send it again.",
    ),
    503: (
        "Try again in a moment",
        "The service is briefly unavailable, so your message was not saved: wait a few "
        "seconds, then go back and send it again.",
    ),
}


def accepts_html(accept: str) -> bool:
    """Whether an `Accept` header lists `text/html` (with a non-zero quality)."""
    for entry in accept.lower().split(","):
        media_type, *params = (part.strip() for part in entry.split(";"))
        if media_type != "text/html":
            continue
        for param in params:
            name, _, value = param.partition("=")
            if name.strip() == "q":
                try:
                    return float(value) > 0
                except ValueError:
                    return False
        return True
    return False


def is_browser(request: HttpRequest) -> bool:
    """A person's browser: `Accept` lists text/html and the agent is not WordPress (whose
    form plugins send an HTML Accept but read the JSON answer)."""
    return accepts_html(request.headers.get("Accept", "")) and not request.headers.get(
        "User-Agent", ""
    ).startswith("WordPress/")


def http_link(url: str) -> str | None:
    """`url` as a link a page may show: an absolute http(s) URL without credentials, its
    query and fragment left out (they may carry what a visitor typed); else None."""
    if not url or len(url) > MAX_LINK_LENGTH:
        return None
    try:
        parts = urlsplit(url.strip())
        parts.port  # noqa: B018  (a malformed port raises here)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    if parts.username is not None or parts.password is not None:
        return None
    if any(ord(char) <= 0x20 or ord(char) == 0x7F or char == "\\" for char in url.strip()):
        return None
    return urlunsplit((parts.scheme.lower(), parts.netloc, parts.path or "/", "", ""))


def link_host(url: str) -> str:
    """The host a link leads to, as the page names it (`Back to shop.example.com`)."""
    return urlsplit(url).hostname or url


def render_page(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """One of our HTML pages: no inline script or style, nothing cached, not framed."""
    request = getattr(request, "_request", request)  # a DRF Request's Django request
    body = render_to_string(template, context, request=request)
    response = HttpResponse(body, status=status, content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = PAGE_CSP
    response["Cache-Control"] = "no-store"
    return response


def error_page(request: HttpRequest, status: int) -> HttpResponse:
    """The page a browser's failed form post gets: the status, one sentence, a way back."""
    title, sentence = ERROR_PAGES[status]
    back = http_link(request.headers.get("Referer", ""))
    context = {
        "title": title,
        "sentence": sentence,
        "status": status,
        "back": back,
        "back_host": link_host(back) if back else "",
    }
    return render_page(request, "pages/error.html", context, status=status)
