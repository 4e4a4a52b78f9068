"""Module and function sizes (lines), and SQL left outside the store: printed, never asserted.

    .venv/bin/python bench/code_size.py [ROOT]
"""

from __future__ import annotations

import ast
import statistics
import sys
from pathlib import Path

PACKAGES = ("domain", "config", "ingest", "store", "service", "bootstrap", "workers", "web", "delivery", "myocit")


def quantiles(values: list[int]) -> tuple[float, float]:
    ordered = sorted(values)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return statistics.median(ordered), p90


def main(root: Path) -> None:
    modules, functions, sql_outside = [], [], 0
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")) if (root / package).is_dir() else []:
            if "migrations" in path.parts:
                continue
            text = path.read_text()
            modules.append(len(text.splitlines()))
            for node in ast.walk(ast.parse(text)):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    functions.append(node.end_lineno - node.lineno + 1)
            if package != "store":
                sql_outside += text.count("select(") + text.count("session.execute(")
    (m50, m90), (f50, f90) = quantiles(modules), quantiles(functions)
    print(f"modules: {len(modules)}, lines median {m50:.0f}, p90 {m90:.0f}")
    print(f"functions: {len(functions)}, lines median {f50:.0f}, p90 {f90:.0f}")
    print(f"select( / session.execute( outside store/: {sql_outside}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1])
