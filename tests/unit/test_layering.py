"""The domains under portal/ and docs/architecture.md's table of them, bottom to top: a domain
imports only domains above it in the table (below it in the layering), so no two domains import
each other, directly or through others. Imports inside functions and ``TYPE_CHECKING`` blocks
count too: they tie the domains together all the same."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import portal

PORTAL = Path(portal.__file__).resolve().parent
ARCHITECTURE = PORTAL.parent / "docs" / "architecture.md"
# A row of the domains' table: | `name` | what it owns |
_ROW = re.compile(r"^\| `([a-z_]+)` \|", re.MULTILINE)


def _domains() -> set[str]:
    return {
        d.name
        for d in PORTAL.iterdir()
        if d.is_dir() and (d / "__init__.py").exists() and d.name != "migrations"
    }


def _documented_order() -> list[str]:
    text = ARCHITECTURE.read_text(encoding="utf-8")
    table = text[text.index("Domains, bottom to top") :]
    return [name for name in _ROW.findall(table) if name in _domains()]


def _imports_of_other_domains() -> dict[str, dict[str, set[str]]]:
    """domain -> imported domain -> the files that import it."""
    domains = _domains()
    found: dict[str, dict[str, set[str]]] = {d: {} for d in domains}
    for path in PORTAL.rglob("*.py"):
        parts = path.relative_to(PORTAL).parts
        if len(parts) < 2 or parts[0] not in domains:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for name in names:
                q = name.split(".")
                if len(q) > 1 and q[0] == "portal" and q[1] in domains and q[1] != parts[0]:
                    found[parts[0]].setdefault(q[1], set()).add(str(path.relative_to(PORTAL)))
    return found


def test_every_domain_has_its_place_in_the_architecture_table() -> None:
    order = _documented_order()
    assert sorted(order) == sorted(_domains())
    assert len(order) == len(set(order))


def test_a_domain_imports_only_domains_below_it() -> None:
    order = _documented_order()
    place = {name: i for i, name in enumerate(order)}
    upward = [
        f"{domain} imports {other} ({', '.join(sorted(files))})"
        for domain, imported in _imports_of_other_domains().items()
        for other, files in imported.items()
        if place[other] > place[domain]
    ]
    assert upward == [], "domains importing domains above them: " + "; ".join(sorted(upward))
