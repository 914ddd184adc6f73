"""Helpers for end-to-end tests of the collector against a real ``rehab serve``."""
