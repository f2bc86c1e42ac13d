"""Exceptions of the wiring package; what the command line turns into one-line messages.

    YuqingError
    ├── SettingsError   a setting has a value the service cannot use (names the variable)
    └── DemoError       the demo could not reach a step (says which and why)
"""

from __future__ import annotations


class YuqingError(Exception):
    """Base of every error raised by ``yuqing``."""
