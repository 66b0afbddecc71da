"""Deals pages, one module per record type: leads, registrations, opportunities."""
