"""Exceptions of the playbooks package: the policy files and the working-day clock.

    PlaybookError
    ├── PolicyFileError   a policy file (playbook, sources, members) is unusable; lists file:line problems
    └── ClockError        a deadline asked with inputs that have no meaning (naive time, absurd span)
"""

from __future__ import annotations


class PlaybookError(Exception):
    """Base of every error raised by ``playbooks``."""
