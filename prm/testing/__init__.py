"""Test building blocks shared by every app's tests: personas and the two-company world."""
