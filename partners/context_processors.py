"""The navigation of every page: portal tabs for partners, manager pages for internal users."""

from django.urls import NoReverseMatch, reverse

from partners.navigation import portal_tabs
from prm.access import role_of

#: Internal users' pages besides the partner list; one shows once its URL exists.
INTERNAL_PAGES = [
    ("Dashboard", "analytics:dashboard"),
    ("Leads", "deals:lead_list"),
    ("Registrations", "deals:registration_list"),
    ("Pipeline", "deals:opportunity_list"),
    ("Training", "training:status"),
    ("Reports", "analytics:report_list"),
    ("Surveys", "analytics:survey_list"),
    ("Alerts", "analytics:alert_list"),
]


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
        # Pages of the apps above partners, by URL name (partners imports none of them).
        for label, name in INTERNAL_PAGES:
            try:
                items.append({"label": label, "url": reverse(name)})
            except NoReverseMatch:
                continue
    else:
        items = []
    for item in items:
        item["active"] = (
            item.get("active")
            or path == item["url"]
            or (item["url"] != reverse("partners:portal_home") and path.startswith(item["url"]))
        )
    return {"nav_items": items}
