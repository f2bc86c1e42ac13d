"""Settings from ``YUQING_*`` environment variables and an optional YAML settings file.

The environment wins over the file. Secrets (the bot token, database
passwords) are read only from the environment: a settings file that carries
one is refused, so that no secret ends up committed beside the playbook.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator

from yuqing.errors import YuqingError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "YUQING_"
SECRET_FIELDS = frozenset({
    "telegram_token", "wecom_secret", "wecom_token", "wecom_aes_key", "dingtalk_app_secret",
    "feishu_app_secret", "feishu_verification_token", "feishu_encrypt_key", "web_secret",
})
# What each chat backend cannot start without (secrets and ids, all from the environment).
BACKEND_REQUIRES = {
    "telegram": ("telegram_token",),
    "wecom": ("wecom_corp_id", "wecom_agent_id", "wecom_secret", "wecom_token", "wecom_aes_key"),
    "dingtalk": ("dingtalk_app_key", "dingtalk_app_secret", "dingtalk_robot_code"),
    "feishu": ("feishu_app_id", "feishu_app_secret", "feishu_verification_token"),
}


class SettingsError(YuqingError):
    """A setting has a value the service cannot use; the message names the setting."""


class Settings(BaseModel):
    """Where things live and how the service talks to the world."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    data_dir: Path = Field(default=PROJECT_ROOT / "var")
    database_url: str = ""
    playbook: Path = Field(default=PROJECT_ROOT / "playbooks" / "jilin.yaml")
    members_file: Path | None = None
    sources_file: Path | None = None
    datasets_dir: Path = Field(default=PROJECT_ROOT.parent / "shared" / "datasets")
    models_dir: Path = Field(default=PROJECT_ROOT / "classifiers" / "models")
    reports_dir: Path | None = None
    chat_backend: Literal["telegram", "wecom", "dingtalk", "feishu", "console"] = "console"
    telegram_token: str | None = None
    telegram_api_url: str = "https://api.telegram.org/bot"
    wecom_api_url: str = "https://qyapi.weixin.qq.com"
    wecom_corp_id: str | None = None
    wecom_agent_id: int | None = None
    wecom_secret: str | None = None
    wecom_token: str | None = None
    wecom_aes_key: str | None = Field(default=None, min_length=43, max_length=43)
    dingtalk_api_url: str = "https://api.dingtalk.com"
    dingtalk_oapi_url: str = "https://oapi.dingtalk.com"  # media upload (report files)
    dingtalk_app_key: str | None = None
    dingtalk_app_secret: str | None = None
    dingtalk_robot_code: str | None = None
    feishu_api_url: str = "https://open.feishu.cn"
    feishu_app_id: str | None = None
    feishu_app_secret: str | None = None
    feishu_verification_token: str | None = None
    feishu_encrypt_key: str | None = None
    duty_chat_id: int | str | None = None  # a number on Telegram, the vendor's chat id on the others
    web_address: str = "127.0.0.1:8080"
    web_desk: bool = True  # serve the web desk beside the callbacks (yuqing run)
    web_secret: str | None = Field(default=None, min_length=32)  # signs desk cookies; else kept in data_dir
    web_secure_cookies: bool = False  # set when the desk is served over HTTPS (a proxy in front)
    callback_max_age: float = Field(default=300.0, gt=0, le=3600)  # seconds a signed callback stays valid
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    malloc_arenas: int = Field(default=2, ge=0, le=64)  # glibc arenas the service's threads share; 0: glibc's
    http_timeout: float = Field(default=20.0, gt=0)
    max_response_bytes: int = Field(default=20_000_000, gt=0)
    fetch_deadline: float = Field(default=120.0, gt=0, le=3600)
    fetch_allow_loopback: bool = True
    fetch_allow_private: bool = True
    max_title_chars: int = Field(default=1_000, ge=50, le=100_000)
    max_text_chars: int = Field(default=100_000, ge=1_000, le=10_000_000)
    max_raw_bytes: int = Field(default=200_000, ge=1_000, le=100_000_000)
    # The cluster (yuqing worker / scheduler / bot): operational tuning, not policy.
    broker_url: str = "redis://127.0.0.1:6379/0"
    task_retries: int = Field(default=5, ge=0, le=50)  # retries of a failing task before its dead letter
    task_retry_backoff: float = Field(default=2.0, gt=0, le=3600)  # seconds before the first retry, doubling
    broker_visibility_timeout: float = Field(default=900.0, ge=1, le=86_400)  # Redis: a dead worker's task waits
    poll_lease: float = Field(default=900.0, ge=1, le=86_400)  # a claimed source is due again if its poll is lost

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, url: str) -> str:
        if url and not url.startswith(("sqlite", "postgresql")):
            raise ValueError("must start with sqlite:// or postgresql:// (e.g. postgresql+psycopg://user@host/db)")
        return url

    @field_validator("broker_url")
    @classmethod
    def _broker_scheme(cls, url: str) -> str:
        if not url.startswith(("redis://", "rediss://", "amqp://", "amqps://")):
            raise ValueError("must start with redis:// (e.g. redis://127.0.0.1:6379/0) or amqp:// (RabbitMQ)")
        return url

    @field_validator("web_address")
    @classmethod
    def _host_port(cls, address: str) -> str:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit() or not 0 <= int(port) < 65536:  # 0: any free port
            raise ValueError("must be host:port, e.g. 127.0.0.1:8080")
        return address

    @field_validator("duty_chat_id")
    @classmethod
    def _duty_chat_fits_backend(cls, chat: int | str | None, info: ValidationInfo) -> int | str | None:
        """Telegram (and the console) number their chats; the vendors name theirs."""
        if info.data.get("chat_backend", "console") in ("telegram", "console") and isinstance(chat, str):
            try:
                return int(chat)
            except ValueError:
                raise ValueError("a Telegram chat id is a number") from None
        return chat

    def missing_for_backend(self) -> list[str]:
        """The environment variables the chosen chat backend needs and does not have."""
        return [ENV_PREFIX + name.upper() for name in BACKEND_REQUIRES.get(self.chat_backend, ())
                if getattr(self, name) in (None, "")]

    @property
    def web_host_port(self) -> tuple[str, int]:
        host, _, port = self.web_address.rpartition(":")
        return host.strip("[]"), int(port)

    # Paths that default to places under data_dir or beside the playbook.
    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'yuqing.sqlite3'}"

    @property
    def effective_members_file(self) -> Path:
        return self.members_file or self.playbook.with_name("members.yaml")

    @property
    def effective_sources_file(self) -> Path:
        return self.sources_file or self.data_dir / "sources.yaml"

    @property
    def effective_reports_dir(self) -> Path:
        return self.reports_dir or self.data_dir / "reports"


def _from_env(environ: Mapping[str, str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name in Settings.model_fields:
        key = ENV_PREFIX + name.upper()
        if key in environ and environ[key] != "":
            values[name] = environ[key]
    return values


def _from_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError:
        raise SettingsError(f"{ENV_PREFIX}SETTINGS: file not found: {path}") from None
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: expected a mapping of setting names to values")
    secrets = SECRET_FIELDS & set(data)
    if secrets:
        names = ", ".join(ENV_PREFIX + s.upper() for s in sorted(secrets))
        raise SettingsError(f"{path}: secrets must come from the environment, not a file: {names}")
    return data


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from the environment (and the file it names), refusing bad values by name."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    settings_file = environ.get(ENV_PREFIX + "SETTINGS")
    if settings_file:
        values.update(_from_file(Path(settings_file)))
    values.update(_from_env(environ))
    try:
        settings = Settings.model_validate(values)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = str(err["loc"][0]) if err["loc"] else "?"
            name = ENV_PREFIX + field.upper()
            msg = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown setting"
            lines.append(f"{name}={values.get(field)!r}: {msg}")
        raise SettingsError("; ".join(lines)) from None
    _check_store_folder(settings)
    return settings


def _check_store_folder(settings: Settings) -> None:
    """A SQLite store named explicitly must be in a folder that exists (a typo must not create a new,
    empty store somewhere); the default one under the data dir gets its folder made."""
    url = settings.database_url
    if not url.startswith("sqlite") or "///" not in url:
        return
    path = url.split("///", 1)[1].split("?", 1)[0]
    if path and path != ":memory:" and not Path(path).parent.is_dir():
        raise SettingsError(f"{ENV_PREFIX}DATABASE_URL={url!r}: the folder {Path(path).parent} does not exist "
                            "(create it, or correct the path)")
