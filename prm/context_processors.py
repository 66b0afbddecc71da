"""Template context every page needs: the user's role, the site name and the bell's unread count."""

from django.conf import settings
from django.utils.functional import cached_property

from prm.access import Role, role_of
from prm.models import Notification


class Bell:
    """The unread count of the bell in the top bar, read only when a template asks for it.

    At most ``CAP + 1`` ids are read (an indexed ``LIMIT``, no ``COUNT(*)`` over a long unread
    history): the badge says "9+" beyond that, which is all a person needs to know.
    """

    CAP = 9

    def __init__(self, user) -> None:
        self.user = user

    @cached_property
    def unread(self) -> int:
        ids = (
            Notification.objects.visible_to(self.user)
            .unread()
            .order_by()
            .values_list("pk", flat=True)[: self.CAP + 1]
        )
        return len(ids)

    @property
    def badge(self) -> str:
        """The count as the badge shows it: "3", or "9+" past the cap."""
        return f"{self.CAP}+" if self.unread > self.CAP else str(self.unread)

    @property
    def label(self) -> str:
        """The bell button's accessible name."""
        return f"Notifications, {self.badge} unread"


def portal(request):
    user = getattr(request, "user", None)
    role = role_of(user)
    bell = Bell(user) if getattr(user, "is_authenticated", False) else None
    return {"site_name": settings.SITE_NAME, "role": role, "Role": Role, "bell": bell}
