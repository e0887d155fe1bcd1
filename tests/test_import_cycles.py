"""The import-cycle check every render gets, tried on small packages written here."""

from pathlib import Path
from textwrap import dedent

from tests.render import import_cycles, import_graph


def project(root: Path, files: dict[str, str]) -> Path:
    """A project folder holding `files` (paths relative to it), each with its source."""
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(dedent(source))
    return root


def test_a_function_local_import_closes_a_cycle(tmp_path: Path) -> None:
    cycle = project(
        tmp_path,
        {
            "src/pkg/__init__.py": "",
            "src/pkg/database.py": """
                def backend():
                    from .sqlite import Source
                    return Source
            """,
            "src/pkg/sqlite.py": "from pkg.database import backend\nclass Source: ...\n",
        },
    )
    assert import_cycles(cycle) == ["pkg.database -> pkg.sqlite -> pkg.database"]


def test_an_import_for_type_checking_closes_a_cycle(tmp_path: Path) -> None:
    cycle = project(
        tmp_path,
        {
            "src/pkg/__init__.py": "",
            "src/pkg/settings.py": "from . import broker\n",
            "src/pkg/broker.py": """
                from typing import TYPE_CHECKING
                if TYPE_CHECKING:
                    from .settings import Settings
            """,
        },
    )
    assert import_cycles(cycle) == ["pkg.broker -> pkg.settings -> pkg.broker"]


def test_cycles_through_bench_and_tests_packages_count(tmp_path: Path) -> None:
    cycle = project(
        tmp_path,
        {
            "src/pkg/__init__.py": "",
            "bench/__init__.py": "from bench import rows\n",
            "bench/rows.py": "import bench\nimport pkg\n",
            "tests/__init__.py": "",
            "tests/support/__init__.py": "",
            "tests/support/servers.py": "from tests.support import ports\n",
            "tests/support/ports.py": "from ..support.servers import serve\n",
        },
    )
    assert import_cycles(cycle) == [
        "bench -> bench.rows -> bench",
        "tests.support.ports -> tests.support.servers -> tests.support.ports",
    ]


def test_an_acyclic_package_has_none(tmp_path: Path) -> None:
    acyclic = project(
        tmp_path,
        {
            "src/pkg/__init__.py": '"""Nothing imported here."""\n',
            "src/pkg/app.py": """
                import json
                import fastapi
                from pkg.rows import router
                from .rows.sources import sqlite
                def create_app():
                    from . import events
                    return events
            """,
            "src/pkg/events.py": """
                from typing import TYPE_CHECKING
                if TYPE_CHECKING:
                    import pkg.rows.sources.sqlite
            """,
            "src/pkg/rows/__init__.py": "",
            "src/pkg/rows/router.py": "from .sources.base import Source\n",
            "src/pkg/rows/sources/__init__.py": "",
            "src/pkg/rows/sources/base.py": "import collections.abc\n",
            "src/pkg/rows/sources/sqlite.py": "from .base import Source\nimport pkg.rows.router\n",
            "tests/test_app.py": "from pkg.app import create_app\n",  # tests/ is no package here
        },
    )
    assert import_cycles(acyclic) == []
    graph = import_graph(acyclic)
    # `from . import events` is the submodule; `from pkg.rows import router` is the
    # submodule too, not the package; third-party and standard-library modules are left out.
    assert graph["pkg.app"] == {"pkg.rows.router", "pkg.rows.sources.sqlite", "pkg.events"}
    # `import a.b.c` imports a.b.c alone: no edge to the packages above it.
    assert graph["pkg.events"] == {"pkg.rows.sources.sqlite"}
    assert graph["pkg.rows.sources.sqlite"] == {"pkg.rows.sources.base", "pkg.rows.router"}
    assert "tests.test_app" not in graph


def test_a_name_from_a_package_is_an_edge_to_its_init(tmp_path: Path) -> None:
    cycle = project(
        tmp_path,
        {
            "src/pkg/__init__.py": "from .rows.router import Router\n",
            "src/pkg/rows/__init__.py": "ITEMS = 'items'\n",
            "src/pkg/rows/router.py": "from pkg.rows import ITEMS\nfrom pkg import TITLE\n",
        },
    )
    assert import_graph(cycle)["pkg.rows.router"] == {"pkg.rows", "pkg"}
    assert import_cycles(cycle) == ["pkg -> pkg.rows.router -> pkg"]
