"""What the web desk keeps: sign-in password hashes (people and roles come from the members file)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from store.base import Base
from store.types import utcnow


class DeskPassword(Base):
    """A web-desk sign-in's password hash (argon2id); the people and roles come from the members file."""

    __tablename__ = "desk_passwords"

    login: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(Text)
    set_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
