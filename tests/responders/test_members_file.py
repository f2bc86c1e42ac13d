from __future__ import annotations

from pathlib import Path

import pytest

from playbooks.loader import PolicyFileError
from playbooks.members import load_members


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "members.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_members_file_loads(members) -> None:
    assert members.is_chief(members.duty.chief) and members.is_duty(members.duty.chief)
    assert members.departments_of(200101) == ["省教育厅"]
    assert members.chat_of("省教育厅") == -1001000000101 and members.chat_of("省人事厅") is None
    assert members.with_duty_chat(-42).duty.chat_id == -42 and members.with_duty_chat(None) is members


def test_unknown_department_is_named_with_line(tmp_path, playbook) -> None:
    path = write(tmp_path, "duty: {chat_id: -1, chief: 1, staff: [1]}\ndepartments:\n  省教育局: {chat_id: -2}\n")
    with pytest.raises(PolicyFileError) as err:
        load_members(path, playbook)
    assert str(err.value) == "members.yaml:3: departments.省教育局: unknown department '省教育局' (not in the playbook)"


def test_type_errors_and_chief_outside_staff(tmp_path, playbook) -> None:
    path = write(tmp_path, "duty:\n  chat_id: abc\n  chief: 9\n  staff: [1]\n")
    with pytest.raises(PolicyFileError) as err:
        load_members(path, playbook)
    text = str(err.value)
    assert "members.yaml:2: duty.chat_id:" in text


def test_chief_must_be_staff(tmp_path, playbook) -> None:
    path = write(tmp_path, "duty:\n  chat_id: -1\n  chief: 9\n  staff: [1]\n")
    with pytest.raises(PolicyFileError, match="duty chief 9 must also be listed under staff"):
        load_members(path, playbook)


def test_shared_chat_is_refused(tmp_path, playbook) -> None:
    path = write(tmp_path, "duty: {chat_id: -1, chief: 1, staff: [1]}\ndepartments:\n"
                           "  省教育厅: {chat_id: -2}\n  省卫生厅: {chat_id: -2}\n")
    with pytest.raises(PolicyFileError, match=r"members.yaml:4: departments.省卫生厅.chat_id: chat -2 is already"):
        load_members(path, playbook)


def test_unknown_field(tmp_path, playbook) -> None:
    path = write(tmp_path, "duty: {chat_id: -1, chief: 1, staff: [1], boss: 2}\n")
    with pytest.raises(PolicyFileError, match="duty.boss: unknown field"):
        load_members(path, playbook)
