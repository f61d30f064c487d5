"""The wheel carries every package: pyproject lists them (migrations/ installs as crm_graph.migrations)."""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _packages_on_disk() -> set[str]:
    names = set()
    for folder in ("crm_graph", "workers", "migrations"):
        for init in (ROOT / folder).rglob("__init__.py"):
            if "__pycache__" in init.parts:
                continue
            dotted = ".".join(init.parent.relative_to(ROOT).parts)
            names.add("crm_graph." + dotted if dotted.startswith("migrations") else dotted)
    return names


def test_every_package_folder_is_listed_for_the_wheel():
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert set(config["packages"]) == _packages_on_disk()
    assert config["package-dir"]["crm_graph.migrations"] == "migrations"
    assert "*.mako" in config["package-data"]["crm_graph.migrations"]  # script.py.mako
