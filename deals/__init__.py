"""Deals: leads, deal registrations, opportunities (built in issue 3)."""
