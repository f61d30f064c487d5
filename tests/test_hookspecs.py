"""Every hook spec is documented: a docstring, and a section in docs/plugin_hooks.md; and has a test."""

import inspect
import re
from pathlib import Path

from crm_graph import hookspecs

ROOT = Path(__file__).resolve().parent.parent
HOOKS = sorted(name for name, value in inspect.getmembers(hookspecs, inspect.isfunction)
               if hasattr(value, "crm_graph_spec"))


def test_there_are_hooks():
    assert {"register_connectors", "register_csv_kinds", "register_csv_mappings", "acquisition_channel_for_order",
            "records_ingested", "sync_finished", "csv_imported"} <= set(HOOKS)


def test_every_hook_has_a_docstring_naming_its_family():
    for name in HOOKS:
        doc = inspect.getdoc(getattr(hookspecs, name)) or ""
        assert len(doc) > 40, name
        spec = getattr(hookspecs, name).crm_graph_spec
        if "_for_" in name:
            assert spec["firstresult"] and "First result" in doc, name
        else:
            assert not spec["firstresult"], name


def test_every_hook_is_documented_in_the_plugin_hooks_guide():
    guide = (ROOT / "docs" / "plugin_hooks.md").read_text("utf-8")
    headings = set(re.findall(r"^## `?(\w+)", guide, flags=re.MULTILINE))
    assert set(HOOKS) <= headings, set(HOOKS) - headings


def test_every_hook_is_exercised_by_a_test():
    text = "".join(path.read_text("utf-8") for base in ("tests", "plugins")
                   for path in (ROOT / base).rglob("test_*.py") if path.name != "test_hookspecs.py")
    text += "".join(path.read_text("utf-8") for path in (ROOT / "tests" / "third_party_plugin").rglob("*.py"))
    missing = [name for name in HOOKS if name not in text]
    assert not missing, missing
