"""Who is who in the chats: the members file beside the playbook.

Chat ids and user ids are deployment facts, not policy, so they live in
``members.yaml`` rather than the playbook; the department names must still
match the playbook's, and mistakes are reported as ``file:line: field: message``
by the same loader as the playbook.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from playbooks.loader import PolicyFileError, Problem, _line_for, read_yaml, validate
from playbooks.schema import Playbook


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DutyDesk(_Strict):
    """The news office's duty desk (值班读网): its chat, its staff and the duty chief."""

    chat_id: int
    chief: int = Field(description="user id of the duty chief (值班长)")
    staff: list[int] = Field(min_length=1, description="user ids of duty staff")

    @model_validator(mode="after")
    def _chief_is_staff(self) -> DutyDesk:
        if self.chief not in self.staff:
            raise ValueError(f"the duty chief {self.chief} must also be listed under staff")
        return self


class DepartmentChat(_Strict):
    """One department's chat, its head's chat and the people who may act for it."""

    chat_id: int
    head_chat_id: int | None = None
    spokesperson: int | None = Field(None, description="user id of the spokesperson (新闻发言人)")
    members: list[int] = Field(default_factory=list)


class Members(_Strict):
    duty: DutyDesk
    departments: dict[str, DepartmentChat] = Field(default_factory=dict)
    names: dict[int, str] = Field(default_factory=dict,
                                  description="user id → real name (2006 §三 报送信息采用实名制)")

    def name_of(self, user_id: int | None) -> str | None:
        """The person's real name, when the members file gives it."""
        return self.names.get(user_id) if user_id is not None else None

    def with_duty_chat(self, chat_id: int | None) -> Members:
        """The same members with the duty chat replaced (YUQING_DUTY_CHAT_ID wins over the file)."""
        if chat_id is None:
            return self
        return self.model_copy(update={"duty": self.duty.model_copy(update={"chat_id": chat_id})})

    def is_duty(self, user_id: int) -> bool:
        return user_id in self.duty.staff

    def is_chief(self, user_id: int) -> bool:
        return user_id == self.duty.chief

    def departments_of(self, user_id: int) -> list[str]:
        """Departments this user may act for (a liaison may serve more than one)."""
        return [
            key
            for key, dept in self.departments.items()
            if user_id in dept.members or user_id == dept.spokesperson
        ]

    def chat_of(self, department: str) -> int | None:
        dept = self.departments.get(department)
        return dept.chat_id if dept else None

    def head_chat_of(self, department: str) -> int | None:
        dept = self.departments.get(department)
        return dept.head_chat_id if dept else None

    def department_of_chat(self, chat_id: int) -> str | None:
        return next((k for k, d in self.departments.items() if d.chat_id == chat_id), None)


def members_problems(members: Members, playbook: Playbook) -> list[tuple[tuple[str | int, ...], str]]:
    """Department names must be the playbook's; chat ids must not be shared by accident."""
    problems: list[tuple[tuple[str | int, ...], str]] = []
    seen_chats: dict[int, str] = {members.duty.chat_id: "the duty chat"}
    for key, dept in members.departments.items():
        if key not in playbook.departments:
            problems.append((("departments", key), f"unknown department {key!r} (not in the playbook)"))
        owner = seen_chats.get(dept.chat_id)
        if owner is not None:
            problems.append((("departments", key, "chat_id"), f"chat {dept.chat_id} is already {owner}"))
        seen_chats[dept.chat_id] = f"the chat of {key}"
    return problems


def load_members(path: Path | str, playbook: Playbook) -> Members:
    """Load the members file and check it against the playbook's departments."""
    path = Path(path)
    data, lines = read_yaml(path)
    members = validate(Members, data, lines, path.name)
    problems = [
        Problem(path.name, _line_for(loc, lines), ".".join(str(p) for p in loc), message)
        for loc, message in members_problems(members, playbook)
    ]
    if problems:
        raise PolicyFileError(problems)
    return members
