"""Template context every page needs: the user's role and the site name."""

from django.conf import settings

from prm.access import Role, role_of


def portal(request):
    role = role_of(getattr(request, "user", None))
    return {"site_name": settings.SITE_NAME, "role": role, "Role": Role}
