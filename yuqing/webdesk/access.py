"""Who signs in to the web desk, what each role may see and do, and the checks every request passes.

People and roles come from the members file (the same file the chats use), so a department liaison
is the same person with the same rights in Telegram, WeCom and the browser. Passwords are argon2id
hashes in the store; sign-in attempts are rate-limited per name and per address; every form carries
a CSRF token tied to the signed session cookie.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
import hmac
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.orm import Session

from playbooks.members import Members
from responders.cases import Actor
from store.models import DeskPassword
from yuqing.errors import DeskError

WEB_CHANNEL = "web"  # the audit trail's chat column for an action taken on the desk
_HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
MIN_PASSWORD_LENGTH = 10


class Role(enum.StrEnum):
    duty = "值班人员"
    chief = "值班长"
    reviewer = "审签人"
    editor = "信息编辑"
    liaison = "单位联络员"
    leader = "领导（只读）"


@dataclass(frozen=True)
class Person:
    """A signed-in person: who, which roles, which departments they answer for."""

    login: str
    user_id: int
    name: str
    roles: frozenset[Role]
    departments: tuple[str, ...] = ()

    @property
    def is_duty(self) -> bool:
        return Role.duty in self.roles

    @property
    def sees_everything(self) -> bool:
        """Duty staff, reviewers, editors and leaders read every case; a liaison reads only its units'."""
        return bool(self.roles & {Role.duty, Role.reviewer, Role.editor, Role.leader})

    @property
    def read_only(self) -> bool:
        return self.roles == {Role.leader}

    def sees_department(self, department: str) -> bool:
        return self.sees_everything or department in self.departments

    def actor(self) -> Actor:
        """The actor the shared actions authorise; the audit row's chat column says it came from the web."""
        return Actor(self.name, self.user_id, WEB_CHANNEL)


def person_for(members: Members, login: str) -> Person | None:
    """The person behind *login* in the members file, or None when the name is not listed."""
    uid = members.desk.logins.get(login)
    if uid is None:
        return None
    roles: set[Role] = set()
    if members.is_duty(uid):
        roles.add(Role.duty)
    if members.is_chief(uid):
        roles.add(Role.chief)
    if uid in members.desk.reviewers:
        roles.add(Role.reviewer)
    if uid in members.desk.editors:
        roles.add(Role.editor)
    if members.is_leader(uid):
        roles.add(Role.leader)
    departments = tuple(members.departments_of(uid))
    if departments:
        roles.add(Role.liaison)
    if not roles:
        return None
    return Person(login, uid, members.name_of(uid) or login, frozenset(roles), departments)


# ---------------------------------------------------------------------- passwords


def set_password(session: Session, members: Members, login: str, password: str, now: dt.datetime) -> None:
    """Store *login*'s new password as an argon2id hash (the plain text is never kept)."""
    if login not in members.desk.logins:
        raise DeskError(f"{login!r} is not a sign-in name in the members file (desk.logins)")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise DeskError(f"a desk password has at least {MIN_PASSWORD_LENGTH} characters")
    row = session.get(DeskPassword, login)
    digest = _HASHER.hash(password)
    if row is None:
        session.add(DeskPassword(login=login, password_hash=digest, set_at=now))
    else:
        row.password_hash, row.set_at = digest, now


@functools.cache
def _dummy_hash() -> str:
    """What an unknown name's password is checked against: made at the first sign-in, not at import
    (one argon2id hash takes 64 MiB for a moment; the service imports this module whether or not
    anyone signs in)."""
    return _HASHER.hash("not a password anyone has")


def password_matches(session: Session, login: str, password: str) -> bool:
    """True when *password* is *login*'s; an unknown name costs the same time as a wrong password."""
    row = session.get(DeskPassword, login)
    try:
        _HASHER.verify(row.password_hash if row is not None else _dummy_hash(), password)
    except (VerificationError, InvalidHashError):
        return False
    if row is None:
        return False
    if _HASHER.check_needs_rehash(row.password_hash):
        row.password_hash = _HASHER.hash(password)
    return True


# ---------------------------------------------------------------------- sign-in rate limit


@dataclass
class SignInLimiter:
    """At most *attempts* failed sign-ins per name and per address within *window* seconds.

    Kept in the serving process: a guesser must get through every process's limit, and a restart
    forgets at most one window.
    """

    attempts: int = 5
    window: float = 900.0
    clock: object = field(default=time.monotonic)
    _failures: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def _now(self) -> float:
        now: float = self.clock()  # type: ignore[operator]
        return now

    def _recent(self, key: str) -> deque[float]:
        now, stamps = self._now(), self._failures[key]
        while stamps and now - stamps[0] > self.window:
            stamps.popleft()
        return stamps

    def wait_for(self, *keys: str) -> float:
        """Seconds until another attempt is allowed for every key (0 when allowed now)."""
        waits = [self.window - (self._now() - stamps[0]) for key in keys
                 if len(stamps := self._recent(key)) >= self.attempts]
        return max(waits, default=0.0)

    def failed(self, *keys: str) -> None:
        for key in keys:
            self._recent(key).append(self._now())

    def succeeded(self, login_key: str) -> None:
        self._failures.pop(login_key, None)


# ---------------------------------------------------------------------- CSRF


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_matches(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison; a missing token on either side never matches."""
    return bool(expected) and bool(given) and hmac.compare_digest(str(expected), str(given))
