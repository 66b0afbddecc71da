"""The navigation of every page: portal tabs for partners, manager pages for internal users."""

from django.urls import reverse

from partners.navigation import portal_tabs
from prm.access import role_of


def navigation(request):
    user = getattr(request, "user", None)
    role = role_of(user)
    path = request.path
    if role.is_partner:
        current = getattr(request, "portal_tab", None)
        items = [
            {"label": t.label, "url": t.url, "active": t.tab == current} for t in portal_tabs(user)
        ]
    elif role.is_internal:
        items = [{"label": "Partners", "url": reverse("partners:partner_list")}]
    else:
        items = []
    for item in items:
        item["active"] = (
            item.get("active")
            or path == item["url"]
            or (item["url"] != reverse("partners:portal_home") and path.startswith(item["url"]))
        )
    return {"nav_items": items}
