"""The Celery app (the Django way): configured from Django's settings, `CELERY_*` names.

`celery -A hushmetrics worker` finds it here; `hushmetrics/__init__.py` imports it so that
`shared_task` tasks bind to it in the web process too.
"""

import os
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hushmetrics.settings")

app = Celery("hushmetrics")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_configure.connect
def _make_broker_folders(sender: Celery, **kwargs: Any) -> None:
    """The no-server broker's folders (and the beat schedule's) exist before anyone sends
    or polls: kombu's filesystem transport does not create them."""
    options = sender.conf.broker_transport_options or {}
    for name in ("data_folder_in", "data_folder_out", "control_folder"):
        if options.get(name):
            os.makedirs(options[name], exist_ok=True)
    schedule = sender.conf.beat_schedule_filename
    if schedule:
        os.makedirs(os.path.dirname(schedule) or ".", exist_ok=True)
