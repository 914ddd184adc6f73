"""The ``rehab`` command line."""
