"""Registrations pages."""
