"""The shape of the code that import-linter cannot check: no import circle, no function longer than
60 lines, no transaction opened in a route, and the benchmarks built on nothing of the tests.

Each rule has the allow-list of today's exceptions, which work under way (issue 19) removes. An entry
that no longer applies fails its test, naming itself: delete it then, until each list is empty."""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parents[2]
PACKAGES: tuple[str, ...] = tuple(
    tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["root_packages"])
MAX_FUNCTION_LINES = 60

CIRCLES_BEING_BROKEN: set[frozenset[str]] = set()
LONG_FUNCTIONS_BEING_SPLIT: set[str] = set()
TRANSACTIONS_IN_ROUTES_BEING_MOVED: set[str] = set()
SCHEMA_AS_SHIPPED = "store/migrations/versions/"
"""A migration records a schema as it was released and is never edited afterwards, whatever its
length. (Classes are not measured: ``ingest/fhir_fast.py``'s schema table is classes.)"""


def _sources(*folders: str) -> list[Path]:
    return sorted(path for folder in folders for path in (ROOT / folder).rglob("*.py"))


def _functions(path: Path):
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def _name(path: Path, function: ast.AST) -> str:
    return f"{path.relative_to(ROOT).as_posix()}::{function.name}"


def import_circles(graph) -> set[frozenset[str]]:
    """Every set of modules importing one another, directly or not (imports inside functions too)."""
    circles = set()
    for module in graph.modules:
        around = graph.find_upstream_modules(module) & graph.find_downstream_modules(module)
        if around:
            circles.add(frozenset(around | {module}))
    return circles


def long_functions() -> set[str]:
    return {
        _name(path, function)
        for path in _sources(*PACKAGES)
        if SCHEMA_AS_SHIPPED not in path.relative_to(ROOT).as_posix()
        for function in _functions(path)
        if function.end_lineno - function.lineno + 1 > MAX_FUNCTION_LINES
    }


def _opens_a_transaction(node: ast.AST) -> bool:
    """``with ….uow()``/``with uow``, or a call of ``commit``/``begin``/``begin_nested``."""
    if isinstance(node, (ast.With, ast.AsyncWith)):
        return any("uow" in ast.unparse(item.context_expr) for item in node.items)
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("commit", "begin", "begin_nested"))


def transactions_in_routes() -> set[str]:
    return {
        _name(path, function)
        for path in _sources("web")
        for function in _functions(path)
        if any(_opens_a_transaction(node) for node in ast.walk(function))
    }


def _imported(source: str) -> set[str]:
    """The absolute modules ``source`` imports, at any depth (a relative import is never outside)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _top(module: str) -> str:
    return module.split(".", 1)[0]


def test_no_import_circle_between_the_projects_modules():
    circles = import_circles(grimp.build_graph(*PACKAGES, cache_dir=None))
    assert circles - CIRCLES_BEING_BROKEN == set(), "new import circles"
    assert CIRCLES_BEING_BROKEN - circles == set(), "broken circles: remove them from CIRCLES_BEING_BROKEN"


def test_no_function_is_longer_than_60_lines():
    found = long_functions()
    assert found - LONG_FUNCTIONS_BEING_SPLIT == set(), f"functions over {MAX_FUNCTION_LINES} lines"
    assert LONG_FUNCTIONS_BEING_SPLIT - found == set(), "split: remove them from LONG_FUNCTIONS_BEING_SPLIT"


def test_routes_open_no_unit_of_work_and_commit_nothing():
    found = transactions_in_routes()
    assert found - TRANSACTIONS_IN_ROUTES_BEING_MOVED == set(), "transactions opened in web/"
    assert TRANSACTIONS_IN_ROUTES_BEING_MOVED - found == set(), \
        "moved to the service: remove them from TRANSACTIONS_IN_ROUTES_BEING_MOVED"


def test_the_benchmarks_and_the_shared_test_kit_import_nothing_from_the_tests():
    offenders = {path.relative_to(ROOT).as_posix() for path in _sources("bench", "testkit")
                 if any(_top(module) == "tests" for module in _imported(path.read_text()))}
    assert offenders == set()


def test_the_shipped_code_imports_neither_the_tests_nor_their_kit():
    offenders = {path.relative_to(ROOT).as_posix() for path in _sources(*PACKAGES)
                 if any(_top(module) in ("tests", "testkit", "bench") for module in _imported(path.read_text()))}
    assert offenders == set()


def test_the_rules_see_what_they_forbid():
    """The detectors themselves, on code written for them."""
    route = ast.parse("def page():\n    with rt.uow() as uow:\n        uow.commit()\n").body[0]
    assert any(_opens_a_transaction(node) for node in ast.walk(route))
    handing_over = ast.parse("def page():\n    return handler(cmd, rt.uow(), clock=rt.clock)\n").body[0]
    assert not any(_opens_a_transaction(node) for node in ast.walk(handing_over))
    graph = grimp.ImportGraph()
    for importer, imported in (("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("e", "e.f"), ("e.f", "e")):
        graph.add_import(importer=importer, imported=imported)
    assert import_circles(graph) == {frozenset("abc"), frozenset({"e", "e.f"})}
    assert _imported("def f():\n    from tests import services\n    import bench.machine\n") == \
        {"tests", "bench.machine"}
