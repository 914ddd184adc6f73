"""Pure analysis of a patient's activity: minute grids, sessions, intensity, plan checks and flags.

Imports numpy and the standard library only: no database, web, Bluetooth, environment or clock.
"""
