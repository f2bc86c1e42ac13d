"""The service caps glibc's malloc arenas before its threads start; 0 leaves glibc alone."""

from __future__ import annotations

import platform

import pytest

from yuqing.malloc_arenas import limit_malloc_arenas
from yuqing.settings import SettingsError, load_settings


def test_zero_leaves_malloc_alone() -> None:
    assert limit_malloc_arenas(0) is False


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="only glibc has malloc arenas to cap")
def test_glibc_takes_the_cap() -> None:
    assert limit_malloc_arenas(2) is True


def test_the_setting_defaults_to_two_and_refuses_a_negative() -> None:
    assert load_settings({}).malloc_arenas == 2
    assert load_settings({"YUQING_MALLOC_ARENAS": "0"}).malloc_arenas == 0
    with pytest.raises(SettingsError, match="MALLOC_ARENAS"):
        load_settings({"YUQING_MALLOC_ARENAS": "-1"})
