"""tests/fuzz: hypothesis against the non-JSON doors (portal, WeChat, CTI, SMS, Open311), on an app of the fuzzers'
own (tests/contract/isolated.py)."""

from __future__ import annotations

import pytest

from tests.contract import isolated


@pytest.fixture(scope="session")
def fuzz_app(tmp_path_factory):
    app, _ = isolated.isolated_app(tmp_path_factory)
    yield app
    isolated.stop()


@pytest.fixture(scope="session")
def fuzz_tokens(fuzz_app, tmp_path_factory):
    return isolated.isolated_app(tmp_path_factory)[1]
