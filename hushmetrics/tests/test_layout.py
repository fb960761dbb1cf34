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
