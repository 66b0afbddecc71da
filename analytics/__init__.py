"""Analytics: KPIs, goals, dashboards, alerts, surveys (built in issues 5 and 6)."""
