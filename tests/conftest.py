"""Shared fixtures; the database fixtures live in tests/fixtures/database.py."""

pytest_plugins = ["tests.fixtures.database", "tests.fixtures.service"]
