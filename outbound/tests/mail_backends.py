"""Email backends for the tests: Django's own, slowed down the way a real disk can be."""

import time
from collections.abc import Sequence

from django.core.mail import EmailMessage
from django.core.mail.backends.filebased import EmailBackend as FileBackend


class SlowFileBackend(FileBackend):
    """The file backend on a disk that takes `DELAY` seconds to write a message."""

    DELAY = 1.0

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        time.sleep(self.DELAY)
        return super().send_messages(email_messages)
