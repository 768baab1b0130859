"""The structure the code promises (docs/ARCHITECTURE.md), checked on its syntax tree: one
owner of a secret's status, and packages that depend on each other in one direction only."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "http_layer", "api", "web", "bot", "scheduler", "vault", "cli")
STATUS_OWNERS = {"core/services/lifecycle.py", "core/services/lifecycle_statements.py"}
SECRET_TABLES = {"Secret", "_SECRETS", "secrets", "SECRETS"}


def modules() -> Iterator[tuple[str, ast.Module]]:
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            relative = path.relative_to(REPO).as_posix()
            if "/migrations/" not in relative:
                yield relative, ast.parse(path.read_text(), relative)


def _updated_table(call: ast.Call) -> str | None:
    """For ``update(X).where(...).values(...)``, the name X."""
    node: ast.expr = call.func
    while isinstance(node, ast.Attribute | ast.Call):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and (
                node.func.id == "update") and node.args:
            return ast.unparse(node.args[0])
        node = node.func if isinstance(node, ast.Call) else node.value
    return None


def _sets_status(call: ast.Call) -> bool:
    if any(keyword.arg == "status" for keyword in call.keywords):
        return True
    return any(isinstance(argument, ast.Dict) and any(
        isinstance(key, ast.Constant) and key.value == "status" for key in argument.keys)
        for argument in call.args)


def status_writes(tree: ast.Module) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "values" and _sets_status(node)
                and _updated_table(node) in SECRET_TABLES):
            lines.append(node.lineno)
        if isinstance(node, ast.Assign | ast.AugAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if (isinstance(target, ast.Attribute) and target.attr == "status"
                        and "secret" in ast.unparse(target.value).lower()):
                    lines.append(node.lineno)
        if (isinstance(node, ast.Constant) and isinstance(node.value, str)
                and "update secrets" in node.value.lower()):
            lines.append(node.lineno)
    return lines


def test_only_the_lifecycle_changes_a_secrets_status() -> None:
    writers = {path: lines for path, tree in modules()
               if path not in STATUS_OWNERS and (lines := status_writes(tree))}
    assert writers == {}, "change a secret's status through core.services.lifecycle"


def test_the_status_check_sees_a_write_when_there_is_one() -> None:
    """The check above must not pass by finding nothing: it recognizes each form."""
    for source in ('update(Secret).where(Secret.id == 1).values(status="burned")',
                   'session.execute(update(_SECRETS).values({"status": REVOKED}))',
                   "secret.status = EXPIRED",
                   'text("UPDATE secrets SET status = :s")'):
        assert status_writes(ast.parse(source)), source
    assert not status_writes(ast.parse('update(CreatorNotice).values(status="x")'))
    assert all(status_writes(tree) for path, tree in modules() if path in STATUS_OWNERS)


def imported_packages(tree: ast.Module) -> set[str]:
    """Top-level project packages this module imports, at any depth (function bodies too)."""
    found: set[str] = set()
    for node in ast.walk(tree):
        names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                 else [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level
                 else [])
        found.update(name.split(".")[0] for name in names)
    return found & set(PACKAGES)


def package_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {package: set() for package in PACKAGES}
    for path, tree in modules():
        package = path.split("/")[0]
        graph[package] |= imported_packages(tree) - {package}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    found = []

    def visit(node: str, trail: list[str]) -> None:
        for neighbour in sorted(graph[node]):
            if neighbour == trail[0]:
                found.append([*trail, neighbour])
            elif neighbour not in trail and neighbour > trail[0]:
                visit(neighbour, [*trail, neighbour])

    for start in sorted(graph):
        visit(start, [start])
    return found


def test_packages_import_each_other_in_one_direction_only() -> None:
    graph = package_graph()
    assert cycles(graph) == []
    assert graph["core"] == set(), "core is shared: it imports none of the parts"
    assert "scheduler" not in graph["bot"], "the bot renders and sends; jobs live in core"
    assert graph["vault"] <= {"core"}, "the vault stays apart: core only"


SERVER_PACKAGES = frozenset(PACKAGES) | {"fastapi", "sqlalchemy", "starlette", "slack_bolt",
                                         "redis", "boto3", "alembic", "uvicorn", "pydantic"}


@pytest.mark.parametrize("client_package", ["cipherslip_crypto", "cipherslip_cli"])
def test_the_client_packages_hold_no_server_code(client_package: str) -> None:
    """The CLI installs on its own (pip install ./client): it may not reach into the server."""
    for path in sorted((REPO / "client" / client_package).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                imported.add(node.module.split(".")[0])
        io_free = client_package == "cipherslip_crypto"  # the formats do no I/O
        forbidden = SERVER_PACKAGES | ({"httpx"} if io_free else set())
        assert not imported & forbidden, f"{path.name} imports {imported & forbidden}"


def test_the_cycle_check_finds_a_cycle() -> None:
    assert cycles({"api": {"web"}, "web": {"api"}}) == [["api", "web", "api"]]
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
