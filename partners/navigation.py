"""The partner portal's tabs, rendered from the workspace of the partner's tier."""

from __future__ import annotations

from dataclasses import dataclass
from functools import wraps

from django.http import Http404
from django.urls import NoReverseMatch, reverse

from partners.models import PortalTab, Workspace, WorkspaceTab
from prm.access import partner_contact, role_of

#: The page behind each tab. A tab whose page does not exist yet is simply not shown.
TAB_URL_NAMES = {
    PortalTab.HOME: "partners:portal_home",
    PortalTab.COMPANY: "partners:company",
    PortalTab.LEADS: "deals:lead_list",
    PortalTab.DEALS: "deals:registration_list",
    PortalTab.TRAINING: "training:course_list",
    PortalTab.RESOURCES: "training:resource_list",
    PortalTab.DASHBOARD: "analytics:scorecard",
    PortalTab.SURVEYS: "analytics:survey_list",
}
#: Home is where partners land: it can be moved but not switched off.
ALWAYS_ON = frozenset({PortalTab.HOME})


@dataclass(frozen=True)
class Tab:
    tab: str
    label: str
    url: str


def workspace_for(user) -> Workspace | None:
    """The partner's workspace (its tier's, else the default), with its tabs; cached per user."""
    if hasattr(user, "_prm_workspace"):
        return user._prm_workspace
    contact = partner_contact(user)
    workspace = None
    if contact is not None:
        candidates = sorted(
            Workspace.objects.visible_to(user).prefetch_related("tabs"),
            key=lambda w: w.tier_id is None,  # the tier's own before the default
        )
        workspace = candidates[0] if candidates else None
    user._prm_workspace = workspace
    return workspace


def portal_tabs(user) -> list[Tab]:
    workspace = workspace_for(user)
    if workspace is None:
        rows = [WorkspaceTab(tab=value, position=i) for i, value in enumerate(PortalTab.values)]
    else:
        rows = [t for t in workspace.tabs.all() if t.enabled or t.tab in ALWAYS_ON]
        if not any(t.tab == PortalTab.HOME for t in rows):
            rows.insert(0, WorkspaceTab(tab=PortalTab.HOME, position=0))
    tabs = []
    for row in sorted(rows, key=lambda t: (t.position, t.pk or 0)):
        try:
            url = reverse(TAB_URL_NAMES[PortalTab(row.tab)])
        except NoReverseMatch:
            continue
        tabs.append(Tab(tab=row.tab, label=row.label or PortalTab(row.tab).label, url=url))
    return tabs


def tab_open(user, tab: str) -> bool:
    """Is this tab switched on for the user? Internal users are never limited by workspaces."""
    if not role_of(user).is_partner:
        return True
    return any(t.tab == tab for t in portal_tabs(user))


def require_tab(request, tab: str) -> None:
    """404 when the partner's workspace has this tab switched off; marks the tab as current."""
    if request.user.is_authenticated and not tab_open(request.user, tab):
        raise Http404("This section is not part of your portal.")
    request.portal_tab = tab


def portal_tab(tab: str):
    """Close a view by URL when the partner's workspace has its tab switched off (404)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            require_tab(request, tab)
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
