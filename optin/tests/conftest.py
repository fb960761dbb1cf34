"""Fixtures for the opt-in admin tests."""

from leads.tests.conftest import lead_with_history, plain_static_files  # noqa: F401
