"""Email plumbing: render a subject/text/html template triple and send it once per key.

An email to a user carries, in its footer, a signed link to their email preferences (no sign-in
needed) and the ``List-Unsubscribe`` headers of RFC 8058: one POST turns off the email of that
email's topic(s) for that person.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse

from prm.models import SentMessage

PREFERENCES_SALT = "prm.email-preferences"
UNSUBSCRIBE_SALT = "prm.email-unsubscribe"
#: How long the links in an email keep working.
LINK_MAX_AGE = timedelta(days=90)


def preferences_token(user) -> str:
    return signing.dumps({"u": user.pk}, salt=PREFERENCES_SALT, compress=True)


def unsubscribe_token(user, topics: list[str]) -> str:
    return signing.dumps({"u": user.pk, "t": list(topics)}, salt=UNSUBSCRIBE_SALT, compress=True)


def read_token(token: str, *, salt: str) -> dict:
    """The signed data; raises ``signing.SignatureExpired`` (too old) or ``signing.BadSignature``
    (tampered, not ours)."""
    data = signing.loads(token, salt=salt, max_age=LINK_MAX_AGE)
    if not isinstance(data, dict) or not isinstance(data.get("u"), int):
        raise signing.BadSignature("Not a link of ours.")
    return data


def preference_links(user, topics: list[str]) -> dict:
    """The absolute links an email to ``user`` carries (template context and headers)."""
    base = settings.PRM_BASE_URL
    links = {
        "preferences_url": base
        + reverse("notification_preferences_signed", args=[preferences_token(user)]),
        "unsubscribe_url": "",
    }
    if topics:
        links["unsubscribe_url"] = base + reverse(
            "notification_unsubscribe", args=[unsubscribe_token(user, topics)]
        )
    return links


def render_email(
    template_prefix: str, context: dict, *, user=None, topic: str | list[str] = ""
) -> tuple[str, str, str]:
    context = {"site_name": settings.SITE_NAME, **context}
    if user is not None:
        topics = [topic] if isinstance(topic, str) and topic else list(topic or [])
        context.update(recipient=user, **preference_links(user, topics))
    subject = render_to_string(f"{template_prefix}_subject.txt", context).strip()
    text = render_to_string(f"{template_prefix}.txt", context)
    html = render_to_string(f"{template_prefix}.html", context)
    return " ".join(subject.splitlines()), text, html


def send_once(
    key: str,
    *,
    to: list[str] | None = None,
    template_prefix: str,
    context: dict,
    user=None,
    topic: str | list[str] = "",
) -> bool:
    """Send an email unless one with the same ``key`` was already sent (task retries, re-runs).

    With ``user`` (the recipient, when they have an account) the email goes to their address
    and carries their preferences link; with ``topic`` also the one-click unsubscribe headers.
    The unique ``SentMessage.key`` is claimed in the same transaction as the send: a failed send
    or a worker killed mid-send rolls the claim back, so the re-delivered task sends it, and a
    concurrent run waits for the claim and then skips.
    """
    if to is None:
        to = [user.email] if user is not None else []
    to = [address for address in to if address]
    if not to:
        return False
    subject, text, html = render_email(template_prefix, context, user=user, topic=topic)
    headers = {}
    if user is not None and topic:
        topics = [topic] if isinstance(topic, str) else list(topic)
        url = preference_links(user, topics)["unsubscribe_url"]
        headers = {
            "List-Unsubscribe": f"<{url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    message = EmailMultiAlternatives(
        subject, text, settings.DEFAULT_FROM_EMAIL, to, headers=headers
    )
    message.attach_alternative(html, "text/html")
    return deliver_once(key, message)


def deliver_once(key: str, message: EmailMultiAlternatives) -> bool:
    """Send ``message`` unless the email ``key`` was already sent: the unique ``SentMessage``
    claim and the send share one transaction (see ``send_once``)."""
    try:
        with transaction.atomic():
            SentMessage.objects.create(key=key)
            message.send()
    except IntegrityError:
        return False
    return True


def html_twin(text: str) -> str:
    """The HTML version of an email written as text only, in the portal's email layout (the
    text's own signature and footer, from prm/email/base.txt, are the layout's there)."""
    content = text.split(f"\n— {settings.SITE_NAME}\n", 1)[0].strip()
    return render_to_string(
        "prm/email/plain.html", {"site_name": settings.SITE_NAME, "text": content}
    )
