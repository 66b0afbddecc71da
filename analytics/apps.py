"""Analytics: KPIs, goals, dashboards, reports (issue 5); alerts and surveys (issue 6)."""

from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"

    def ready(self):
        from django.db.backends.signals import connection_created

        from analytics.sql import register_sqlite_functions

        connection_created.connect(register_sqlite_functions, dispatch_uid="prm_sqlite_median")

        from analytics.views.portal import home_panel_context
        from prm.portal import register_home_panel

        register_home_panel(
            "attention", "analytics/partials/portal_home_panel.html", home_panel_context
        )
