"""Command-line entry points of the home hub, mounted by the `rehab` command."""
