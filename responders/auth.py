"""Who may do what: duty staff and department members from the members file.

A department may act only on its own cases; only duty staff dismiss,
reassign, confirm, ignore, assign or record the agreed line. Duty staff may act
on a department's behalf (the audit trail names them). A refusal says why.
"""

from __future__ import annotations

from playbooks.members import Members
from responders.cases import Actor, Who
from responders.errors import NotAuthorised


def authorise(members: Members, actor: Actor, who: frozenset[Who], *, what: str,
              department: str | None = None, case: int | None = None) -> None:
    """Raise :class:`NotAuthorised` unless *actor* may do *what*."""
    uid = actor.user_id
    if uid is not None and Who.duty in who and members.is_duty(uid):
        return
    if uid is not None and Who.department in who and department in members.departments_of(uid):
        return
    if Who.department not in who:
        raise NotAuthorised(reply="duty_only", what=what)
    mine = members.departments_of(uid) if uid is not None else []
    if not mine:
        raise NotAuthorised(reply="not_a_member", what=what)
    raise NotAuthorised(reply="other_department", what=what, case=case, department=department, mine=mine)


def require_duty(members: Members, actor: Actor, what: str) -> None:
    authorise(members, actor, frozenset({Who.duty}), what=what)


def require_reviewer(members: Members, actor: Actor, what: str) -> None:
    """审签: duty staff, or a reviewer the members file names."""
    if actor.user_id is None or not members.is_reviewer(actor.user_id):
        raise NotAuthorised(reply="reviewers_only", what=what)


def require_editor(members: Members, actor: Actor, what: str) -> None:
    """采用/退回: duty staff, or an editor the members file names."""
    if actor.user_id is None or not members.is_editor(actor.user_id):
        raise NotAuthorised(reply="editors_only", what=what)
