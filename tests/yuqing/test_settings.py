"""Settings: environment over file, secrets only from the environment, bad values named."""

from __future__ import annotations

from pathlib import Path

import pytest

from yuqing.settings import SettingsError, load_settings


def test_defaults_use_sqlite_under_the_data_dir(tmp_path: Path) -> None:
    settings = load_settings({"YUQING_DATA_DIR": str(tmp_path)})
    assert settings.effective_database_url == f"sqlite:///{tmp_path / 'yuqing.sqlite3'}"
    assert settings.effective_members_file.name == "members.yaml"
    assert settings.effective_reports_dir == tmp_path / "reports"


def test_database_url_selects_postgresql() -> None:
    url = "postgresql://postgres@127.0.0.1:5432/test"
    assert load_settings({"YUQING_DATABASE_URL": url}).effective_database_url == url


def test_environment_overrides_the_settings_file(tmp_path: Path) -> None:
    file = tmp_path / "settings.yaml"
    file.write_text("chat_backend: telegram\nlog_level: DEBUG\n", encoding="utf-8")
    settings = load_settings({"YUQING_SETTINGS": str(file), "YUQING_LOG_LEVEL": "ERROR"})
    assert settings.chat_backend == "telegram"
    assert settings.log_level == "ERROR"


def test_secrets_in_a_settings_file_are_refused(tmp_path: Path) -> None:
    file = tmp_path / "settings.yaml"
    file.write_text("telegram_token: '123:abc'\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="YUQING_TELEGRAM_TOKEN"):
        load_settings({"YUQING_SETTINGS": str(file)})


def test_token_from_the_environment() -> None:
    assert load_settings({"YUQING_TELEGRAM_TOKEN": "123:abc"}).telegram_token == "123:abc"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("YUQING_DATABASE_URL", "mysql://root@localhost/x"),
        ("YUQING_CHAT_BACKEND", "pigeon"),
        ("YUQING_DUTY_CHAT_ID", "duty"),
        ("YUQING_HTTP_TIMEOUT", "-1"),
    ],
)
def test_bad_values_are_refused_by_name(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name):
        load_settings({name: value})


@pytest.mark.parametrize("timeout", [3.0, 900.0, 86_400.0])
def test_redis_sweeps_for_a_dead_workers_tasks_well_within_the_visibility_timeout(timeout: float) -> None:
    """kombu's own sweep (every 10th tick of 10 s) left a killed worker's tasks waiting up to 100 s longer
    than the visibility timeout before another worker got them."""
    from yuqing.settings import Settings
    from yuqing.tasks import celery_config

    options = celery_config(Settings(broker_visibility_timeout=timeout))["broker_transport_options"]
    assert options["visibility_timeout"] == timeout
    sweep_every = options["unacked_restore_interval"] * options["unacked_restore_throttle"]
    assert sweep_every <= min(10.0, max(1.0, timeout / 2))
