"""The partner portal home's analytics panel (prm.portal; registered in analytics.apps): what
a partner admin has here besides the tabs — their company's open alerts and the reports shared
with partner admins."""

from __future__ import annotations

from analytics.models import Alert, SavedReport
from prm.access import Role, role_of

PANEL_ALERTS = 3
PANEL_REPORTS = 5


def home_panel_context(request) -> dict | None:
    """Three queries; no panel for members, nor when there is nothing to show."""
    user = request.user
    if role_of(user) is not Role.PARTNER_ADMIN:
        return None
    open_alerts = Alert.objects.visible_to(user).needing_attention()
    alerts = list(open_alerts.order_by("-raised_at", "-pk")[:PANEL_ALERTS])
    alert_count = len(alerts) if len(alerts) < PANEL_ALERTS else open_alerts.count()
    reports = list(SavedReport.objects.visible_to(user).order_by("name", "pk")[: PANEL_REPORTS + 1])
    if not alerts and not reports:
        return None
    return {
        "alerts": alerts,
        "alert_count": alert_count,
        "reports": reports[:PANEL_REPORTS],
        "more_reports": len(reports) > PANEL_REPORTS,
    }
