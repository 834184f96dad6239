"""The zoo tests check the shipped files: a user's INVWIDGETS_ZOO_DIR must not redirect them, and
nothing a test saves without a folder may land in the real per-user cache."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def isolated_user_zoo(monkeypatch, tmp_path_factory):
    monkeypatch.delenv("INVWIDGETS_ZOO_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
