"""Email plumbing: render a subject/text/html template triple and send it once per key."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string

from prm.models import SentMessage


def render_email(template_prefix: str, context: dict) -> tuple[str, str, str]:
    context = {"site_name": settings.SITE_NAME, **context}
    subject = render_to_string(f"{template_prefix}_subject.txt", context).strip()
    text = render_to_string(f"{template_prefix}.txt", context)
    html = render_to_string(f"{template_prefix}.html", context)
    return " ".join(subject.splitlines()), text, html


def send_once(key: str, *, to: list[str], template_prefix: str, context: dict) -> bool:
    """Send an email unless one with the same ``key`` was already sent (task retries, re-runs).

    The unique ``SentMessage.key`` is the effect that makes the task idempotent; a failed send
    removes the claim so that the retry can send it.
    """
    to = [address for address in to if address]
    if not to:
        return False
    try:
        with transaction.atomic():
            claim = SentMessage.objects.create(key=key)
    except IntegrityError:
        return False
    subject, text, html = render_email(template_prefix, context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, to)
    message.attach_alternative(html, "text/html")
    try:
        message.send()
    except Exception:
        claim.delete()
        raise
    return True
