"""Notifications: the in-app bell and email, sent together, once per key, from Celery tasks."""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings

from prm.mail import send_once
from prm.models import Notification


def notify(
    key: str,
    users: Iterable,
    *,
    title: str,
    url: str = "",
    body: str = "",
    email_template: str | None = "prm/email/notification",
    context: dict | None = None,
) -> int:
    """Tell ``users`` about something: a bell entry each and one email (``email_template=None``
    for the bell only; the default template shows the title, the body and a link).

    ``key`` names the event (e.g. ``registration-approved:42``); running the same call twice adds
    no second bell entry and sends no second email. ``url`` is a site path. Returns how many
    bell entries were new.
    """
    people = {user.pk: user for user in users if user is not None and user.is_active}
    if not people:
        return 0
    created = Notification.objects.bulk_create(
        [
            Notification(user_id=pk, key=key, title=title[:200], body=body[:500], url=url)
            for pk in people
        ],
        ignore_conflicts=True,
    )
    if email_template:
        send_once(
            f"email:{key}",
            to=sorted(user.email for user in people.values()),
            template_prefix=email_template,
            context={
                "title": title,
                "body": body,
                "url": settings.PRM_BASE_URL + url if url else "",
                **(context or {}),
            },
        )
    # bulk_create with ignore_conflicts does not say which rows were new on every database.
    return len(created)
