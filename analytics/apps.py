"""Analytics: KPIs, goals, dashboards, reports (issue 5); alerts and surveys (issue 6)."""

from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "analytics"

    def ready(self):
        from django.db.backends.signals import connection_created

        from analytics.sql import register_sqlite_functions

        connection_created.connect(register_sqlite_functions, dispatch_uid="prm_sqlite_median")
