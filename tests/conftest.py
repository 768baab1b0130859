"""Shared fixtures. Service helpers live in ``tests/support``."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.databases import empty_all_tables, postgres_database, sqlite_database
from tests.support.error_answers import ANSWERS
from tests.support.idp import oidc_provider
from tests.support.moto import CREDENTIALS, MotoServer, moto_server
from tests.support.stack import Stack, VaultServer, running_stack, vault_server


@pytest.fixture(scope="session", autouse=True)
def error_answers_show_no_internals() -> Iterator[None]:
    """Every 4xx/5xx answer any test's client received names no internal path, key, stack
    or driver (``tests/support/error_answers.py``); checked once the suite is done."""
    yield
    assert not ANSWERS.leaks, (f"{len(ANSWERS.leaks)} of {ANSWERS.checked} error answers "
                               "show internals:\n" + "\n".join(ANSWERS.leaks[:20]))


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoServer]:
    """One moto server (S3 + KMS over HTTP) for the session; tests use unique names."""
    for name, value in {"AWS_ACCESS_KEY_ID": CREDENTIALS["aws_access_key_id"],
                        "AWS_SECRET_ACCESS_KEY": CREDENTIALS["aws_secret_access_key"],
                        "AWS_DEFAULT_REGION": "us-east-1"}.items():
        os.environ.setdefault(name, value)
    with moto_server() as server:
        yield server


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    """One headless Chromium for the session; tests open their own contexts."""
    from tests.support.browser import chromium

    with chromium() as launched:
        yield launched


@pytest.fixture(scope="session")
def idp() -> Iterator[str]:
    """Discovery URL of a real OpenID provider where anyone can sign in as any email."""
    with oidc_provider() as discovery_url:
        yield discovery_url


@pytest.fixture(scope="session")
def vault(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VaultServer]:
    """The vault as its own server (local master-key KMS), shared by the session."""
    with vault_server(tmp_path_factory.mktemp("vault")) as server:
        yield server


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


@pytest.hookimpl(tryfirst=True)  # before the fixture's own params are applied
def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests run on SQLite and PostgreSQL, except those marked ``one_database``: the Slack
    layer, pages, sign-in, CSRF and headers check nothing the database decides, and the
    create, reveal, lifecycle, audit and scheduler tests cover both dialects' code."""
    if "database_url" in metafunc.fixturenames and metafunc.definition.get_closest_marker(
            "one_database"):
        # As a mark, so that the fixture's own params give way to it.
        metafunc.definition.add_marker(
            pytest.mark.parametrize("database_url", ["sqlite"], indirect=True))


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The same test on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        with sqlite_database(tmp_path) as url:
            yield url
        return
    shared_url: str = request.getfixturevalue("postgres_url")
    yield shared_url
    from core.db.engine import create_db_engine

    engine = create_db_engine(shared_url)
    empty_all_tables(engine)
    engine.dispose()


@pytest.fixture
def stack_options() -> dict[str, object]:
    """Settings overrides for ``stack``; override this fixture in a module to change them."""
    return {}


@pytest.fixture
def stack(
    tmp_path: Path, database_url: str, idp: str, vault: VaultServer,
    stack_options: dict[str, object],
) -> Iterator[Stack]:
    with running_stack(data_dir=tmp_path, database_url=database_url, discovery_url=idp,
                       vault=vault, **stack_options) as running:
        yield running
