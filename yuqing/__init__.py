"""Wiring: settings, the command line and the long-running service."""
