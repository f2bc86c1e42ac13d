"""Who is who in the chats: the members file beside the playbook.

Chat ids and user ids are deployment facts, not policy, so they live in
``members.yaml`` rather than the playbook; the department names must still
match the playbook's, and mistakes are reported as ``file:line: field: message``
by the same loader as the playbook.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

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


class DeskAccess(_Strict):
    """The web desk's sign-in names and the roles the chats do not give.

    Duty staff, the duty chief and department liaisons are the people listed above; the desk adds
    who reviews clarifications (审签), who adopts submitted information (采用) and who only reads.
    """

    logins: dict[str, int] = Field(default_factory=dict, description="sign-in name → user id")
    reviewers: list[int] = Field(default_factory=list, description="审签: may approve or return clarifications")
    editors: list[int] = Field(default_factory=list, description="采用/退回: may adopt or decline submissions")
    leaders: list[int] = Field(default_factory=list, description="leaders: read every page, act on nothing")

    @field_validator("logins")
    @classmethod
    def _plain_logins(cls, value: dict[str, int]) -> dict[str, int]:
        bad = sorted(name for name in value if not name.isascii() or not name.replace("_", "").replace(".", "")
                     .isalnum() or len(name) > 64)
        if bad:
            raise ValueError(f"sign-in names are letters, digits, '.' and '_' (not: {', '.join(bad)})")
        return value


VENDORS = ("wecom", "dingtalk", "feishu")
HEAD_SUFFIX = ".head"  # ``省教育厅.head``: the department head's chat in a vendor's ``chats`` table


class VendorIds(_Strict):
    """One chat vendor's ids for the people and chats above (Telegram's are the ids above themselves).

    ``users`` maps the vendor's user id (WeCom userid, DingTalk userId, Feishu open_id) to the person's
    number used in this file; ``chats`` maps ``duty``, a department's name or ``<department>.head`` to the
    vendor's chat (WeCom: ``touser`` such as ``zhangsan|lisi`` or ``party:2``, or left out to reach the
    chat's people one by one; DingTalk: openConversationId; Feishu: chat_id).
    """

    users: dict[str, int] = Field(default_factory=dict)
    chats: dict[str, str] = Field(default_factory=dict)


class Members(_Strict):
    duty: DutyDesk
    departments: dict[str, DepartmentChat] = Field(default_factory=dict)
    names: dict[int, str] = Field(default_factory=dict,
                                  description="user id → real name (2006 §三 报送信息采用实名制)")
    backends: dict[str, VendorIds] = Field(default_factory=dict, description="wecom, dingtalk, feishu → their ids")
    desk: DeskAccess = Field(default_factory=DeskAccess, description="the web desk's sign-in names and roles")

    @field_validator("backends")
    @classmethod
    def _known_vendors(cls, value: dict[str, VendorIds]) -> dict[str, VendorIds]:
        unknown = sorted(set(value) - set(VENDORS))
        if unknown:
            raise ValueError(f"unknown chat vendor(s) {', '.join(unknown)} (known: {', '.join(VENDORS)})")
        return value

    def name_of(self, user_id: int | None) -> str | None:
        """The person's real name, when the members file gives it."""
        return self.names.get(user_id) if user_id is not None else None

    def with_duty_chat(self, chat_id: int | None) -> Members:
        """The same members with the duty chat replaced (YUQING_DUTY_CHAT_ID wins over the file)."""
        if chat_id is None:
            return self
        return self.model_copy(update={"duty": self.duty.model_copy(update={"chat_id": chat_id})})

    def with_vendor_duty_chat(self, vendor: str, chat: str | None) -> Members:
        """The same members with *vendor*'s duty chat replaced (YUQING_DUTY_CHAT_ID on a vendor backend)."""
        if chat is None:
            return self
        ids = self.backends.get(vendor, VendorIds())
        ids = ids.model_copy(update={"chats": {**ids.chats, "duty": chat}})
        return self.model_copy(update={"backends": {**self.backends, vendor: ids}})

    # ------------------------------------------------------------------ vendor ids

    def chat_keys(self) -> dict[str, str]:
        """Every chat of this file by its name in a vendor's ``chats`` table → its id above."""
        keys = {"duty": str(self.duty.chat_id)}
        for name, dept in self.departments.items():
            keys[name] = str(dept.chat_id)
            if dept.head_chat_id is not None:
                keys[name + HEAD_SUFFIX] = str(dept.head_chat_id)
        return keys

    def vendor_chat(self, vendor: str, chat_id: str) -> str | None:
        """The vendor's chat for the chat with *chat_id* above (the id the outbox stores)."""
        ids = self.backends.get(vendor)
        if ids is None:
            return None
        key = next((k for k, v in self.chat_keys().items() if v == str(chat_id)), None)
        return ids.chats.get(key) if key is not None else None

    def chat_of_vendor(self, vendor: str, vendor_chat: str) -> str | None:
        """The id above of the chat the vendor calls *vendor_chat*."""
        ids = self.backends.get(vendor)
        key = next((k for k, v in ids.chats.items() if v == vendor_chat), None) if ids else None
        return self.chat_keys().get(key) if key is not None else None

    def person_of(self, vendor: str, vendor_user: str) -> int | None:
        """The person's number in this file for a vendor's user id; None for a stranger."""
        ids = self.backends.get(vendor)
        return ids.users.get(vendor_user) if ids else None

    def vendor_users(self, vendor: str, people: list[int]) -> list[str]:
        """The vendor's user ids of *people* (those the vendor table names)."""
        ids = self.backends.get(vendor)
        if ids is None:
            return []
        return [uid for person in people for uid, p in ids.users.items() if p == person]

    def people_of_chat(self, chat_id: str) -> list[int]:
        """Who is in the chat with *chat_id*: the duty staff, or a department's spokesperson and members."""
        if str(self.duty.chat_id) == str(chat_id):
            return list(self.duty.staff)
        for dept in self.departments.values():
            if str(dept.chat_id) == str(chat_id) or str(dept.head_chat_id) == str(chat_id):
                people = ([dept.spokesperson] if dept.spokesperson is not None else []) + dept.members
                return list(dict.fromkeys(people))
        return []

    def is_duty(self, user_id: int) -> bool:
        return user_id in self.duty.staff

    def is_chief(self, user_id: int) -> bool:
        return user_id == self.duty.chief

    def is_reviewer(self, user_id: int) -> bool:
        """审签 is the duty desk's, or a reviewer's the members file names."""
        return self.is_duty(user_id) or user_id in self.desk.reviewers

    def is_editor(self, user_id: int) -> bool:
        """采用/退回 is the duty desk's, or an editor's the members file names."""
        return self.is_duty(user_id) or user_id in self.desk.editors

    def is_leader(self, user_id: int) -> bool:
        return user_id in self.desk.leaders

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
    known = members.chat_keys()
    people = {*members.duty.staff, *members.names, *members.desk.reviewers, *members.desk.editors,
              *members.desk.leaders}
    for dept in members.departments.values():
        people.update(dept.members, [dept.spokesperson] if dept.spokesperson is not None else [])
    for login, person in members.desk.logins.items():
        if person not in people:
            problems.append((("desk", "logins", login), f"person {person} is not listed above"))
    for vendor, ids in members.backends.items():
        for key in ids.chats:
            if key not in known:
                problems.append((("backends", vendor, "chats", key),
                                 f"unknown chat {key!r} (write duty, a department above, or <department>.head)"))
        for uid, person in ids.users.items():
            if person not in people:
                problems.append((("backends", vendor, "users", uid), f"person {person} is not listed above"))
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
