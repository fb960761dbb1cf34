"""Where code lives (STYLE.md "Where things live"), checked on the source itself."""

import ast
from pathlib import Path

import pytest
from django.apps import apps

ROOT = Path(__file__).resolve().parents[2]
APPS = ["workspaces", "leads", "optin"]


def _queried_models(source: str) -> set[str]:
    """The names `X` in `X.objects` (and `X._default_manager`) a module reads through."""
    return {
        node.value.id
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute)
        and node.attr in {"objects", "_default_manager"}
        and isinstance(node.value, ast.Name)
    }


@pytest.mark.parametrize("app", APPS)
def test_selectors_read_only_the_models_of_their_own_app(app):
    own = {model.__name__ for model in apps.get_app_config(app).get_models()}
    queried = _queried_models((ROOT / app / "selectors.py").read_text())
    assert queried, "no selector found: the check would prove nothing"
    assert queried <= own, f"{app}/selectors.py reads {sorted(queried - own)} of another app"


def _project_sources() -> list[Path]:
    # mutants/: `make mutation`'s working copy of the tree (git-ignored).
    skip = {".venv", "node_modules", "staticfiles", "tests", "migrations", "mutants"}
    return [
        path for path in ROOT.rglob("*.py") if not skip.intersection(path.relative_to(ROOT).parts)
    ]


def test_django_ratelimits_own_exception_is_never_raised():
    """Only django-ratelimit's decorator and middleware raise its `Ratelimited` (a 403);
    the project counts with `django_ratelimit.core.get_usage` and raises DRF's Throttled
    (hushmetrics/ratelimit.py), so the error handler has no branch for it. Using either
    would need that branch back. bench/floor/ is not the project: a bare app of its own
    settings and error handling, which the load bench measures against."""
    from django.conf import settings

    users = {
        path.relative_to(ROOT).as_posix()
        for path in _project_sources()
        if path.relative_to(ROOT).parts[:2] != ("bench", "floor")
        for line in path.read_text().splitlines()
        if "django_ratelimit" in line and "import" in line
    }
    assert users == {"hushmetrics/ratelimit.py"}
    assert "from django_ratelimit.core import get_usage" in (
        (ROOT / "hushmetrics" / "ratelimit.py").read_text()
    )
    assert not [name for name in settings.MIDDLEWARE if "ratelimit" in name]
