"""Opportunities pages."""
