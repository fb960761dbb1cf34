"""Running a management command in a test, as an operator's shell would capture it."""

from io import StringIO

from django.core.management import call_command


def run(*args: str) -> tuple[str, str]:
    """The command's stdout and stderr; a CommandError propagates."""
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()
