"""A Celery worker whose email backend hangs inside its first send (test-only entry point).

``python -m tests.faults.hanging_worker worker --pool=solo ...`` patches the email backend's
``send_messages`` to write the file named by ``PRM_TEST_HANG_MARKER`` (so the test knows the
worker is mid-send) and then sleep, and runs the worker with the given arguments. The test
SIGKILLs it there: whatever the task had not committed is rolled back, its message not acked.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prm.settings")


def _hang(self, email_messages):
    marker = Path(os.environ["PRM_TEST_HANG_MARKER"])
    marker.write_text(", ".join(", ".join(m.to) for m in email_messages))
    print(f"hanging inside the send to {marker.read_text()}", flush=True)
    time.sleep(3600)
    return 0


def main() -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.utils.module_loading import import_string

    backend = import_string(settings.EMAIL_BACKEND)
    backend.send_messages = _hang

    from prm.celery import app

    app.worker_main(argv=sys.argv[1:])


if __name__ == "__main__":
    main()
