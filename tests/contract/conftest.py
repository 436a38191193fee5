"""tests/contract: the OpenAPI document and schemathesis against it, on an app of the fuzzers' own (isolated.py)."""

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
