"""Exceptions of the wiring package; what the command line turns into one-line messages.

    YuqingError
    ├── SettingsError   a setting has a value the service cannot use (names the variable)
    ├── DemoError       the demo could not reach a step (says which and why)
    └── DeskError       a web-desk sign-in or password the operator must fix (names the sign-in)
        ├── SignInRequired  a desk request without a valid session (pages answer with the sign-in page)
        └── Forbidden       the signed-in person may not see or do this (pages answer 403 and say why)
"""

from __future__ import annotations


class YuqingError(Exception):
    """Base of every error raised by ``yuqing``."""


class DeskError(YuqingError):
    """A web-desk problem an operator can fix (an unknown sign-in name, a short password)."""
