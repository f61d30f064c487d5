"""The plugin manager: default and entry-point plugins, restriction, tracing, a third-party plugin end to end."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from crm_graph import plugins

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def test_default_and_built_in_plugins_are_loaded():
    names = {info.name: info for info in plugins.list_plugins()}
    assert names["crm_graph.default_hooks"].default
    for name, distribution in (("csv", "crm-graph-csv"), ("woocommerce", "crm-graph-woocommerce"),
                               ("shopify", "crm-graph-shopify")):
        assert names[name].distribution == distribution and names[name].version
    assert {"woocommerce", "shopify"} <= set(plugins.connector_classes())
    assert {"customers", "orders", "consents", "tags", "marketing_spend"} <= set(plugins.csv_kinds())


def test_the_environment_restricts_which_plugins_load(monkeypatch):
    monkeypatch.setenv(plugins.ENV_PLUGINS, "csv")
    pm = plugins.build_plugin_manager()
    loaded = {name for name, plugin in pm.list_name_plugin() if plugin is not None}
    assert loaded == {"crm_graph.default_hooks", "csv"}
    monkeypatch.setenv(plugins.ENV_PLUGINS, "")
    pm = plugins.build_plugin_manager()
    assert {name for name, _ in pm.list_name_plugin()} == {"crm_graph.default_hooks"}


def test_tracing_writes_hook_calls_to_stderr(monkeypatch, capsys):
    monkeypatch.setenv(plugins.ENV_TRACE, "1")
    pm = plugins.build_plugin_manager()
    pm.hook.register_csv_kinds()
    assert "register_csv_kinds" in capsys.readouterr().err


def test_an_unknown_connector_names_the_installed_ones():
    from crm_graph.errors import UserError

    with pytest.raises(UserError, match="installed: .*shopify"):
        plugins.get_connector_class("magento")


def test_the_core_registers_its_metrics_through_the_hook_and_a_second_of_one_name_is_refused(monkeypatch):
    from crm_graph.errors import UserError
    from crm_graph.hookspecs import hookimpl
    from crm_graph.services.analytics.contract import Metric

    monkeypatch.setenv(plugins.ENV_PLUGINS, "")  # the default plugin alone registers them
    pm = plugins.build_plugin_manager()
    monkeypatch.setattr(plugins, "_manager", pm)
    assert {"consent_counts", "customer_counts", "activity", "spender_segments", "top_tags", "rfm_grid",
            "period_kpis", "lifecycle_stages", "cohorts", "purchase_rhythm", "product_popularity",
            "product_pairs", "acquisition_channels"} <= set(plugins.metrics())

    class Clashing:
        @hookimpl
        def register_metrics(self):
            return [Metric("rfm_grid", (), lambda session, store: None)]

    pm.register(Clashing(), name="clashing")
    with pytest.raises(UserError, match="rfm_grid"):
        plugins.metrics()


def build_wheel(source: Path, out: Path) -> Path:
    """A wheel of the tiny plugin, built by hand (no build backend or network needed)."""
    import base64
    import hashlib
    import tomllib
    import zipfile

    project = tomllib.loads((source / "pyproject.toml").read_text("utf-8"))["project"]
    name, version = project["name"].replace("-", "_"), project["version"]
    dist_info = f"{name}-{version}.dist-info"
    files = {str(path.relative_to(source)): path.read_bytes()
             for path in (source / name).rglob("*.py")}
    entry_points = "".join(f"[{group}]\n" + "".join(f"{k} = {v}\n" for k, v in items.items())
                           for group, items in project["entry-points"].items())
    files[f"{dist_info}/METADATA"] = f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {version}\n".encode()
    files[f"{dist_info}/WHEEL"] = b"Wheel-Version: 1.0\nGenerator: crm-graph-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    files[f"{dist_info}/entry_points.txt"] = entry_points.encode()
    record = [f"{path},sha256={base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b'=').decode()},{len(data)}"
              for path, data in files.items()] + [f"{dist_info}/RECORD,,"]
    files[f"{dist_info}/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel = out / f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in files.items():
            archive.writestr(path, data)
    return wheel


@pytest.mark.slow
def test_a_third_party_plugin_installs_and_works_end_to_end(tmp_path):
    target = tmp_path / "site"
    wheel = build_wheel(ROOT / "tests" / "third_party_plugin", tmp_path)
    subprocess.run([PYTHON, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", "--target", str(target),
                    str(wheel)], check=True, capture_output=True, cwd=tmp_path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), str(ROOT)]),
           "CRM_GRAPH_DATABASE_URL": f"sqlite:///{tmp_path / 'crm.db'}", "CRM_GRAPH_LOG_LEVEL": "WARNING"}
    env.pop(plugins.ENV_PLUGINS, None)

    def cli(*args: str) -> str:
        done = subprocess.run([PYTHON, "-m", "crm_graph", *args], env=env, capture_output=True, text=True,
                              cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        return done.stdout

    listing = cli("plugins")
    assert "hello" in listing and "crm-graph-hello" in listing and "0.3.0" in listing
    cli("stores", "create", "shop")
    cli("connect", "shop", "hello", "--settings", '{"greeting": "Hi", "token": "s3cret-token"}')
    out = cli("sync", "shop", "hello")
    assert "hello plugin saw hello finish with 3 created" in out
    import sqlite3

    with sqlite3.connect(tmp_path / "crm.db") as db:
        assert db.execute("SELECT first_name, email FROM customer ORDER BY id").fetchall() == [
            ("Hi", "ada@example.com"), (None, "bob@example.com")]
        assert db.execute("SELECT c.email, o.total FROM orders o JOIN customer c ON c.id = o.customer_id"
                          ).fetchall() == [("bob@example.com", 12)]
    # Its CSV mapping is picked from the header and transforms values.
    contacts = tmp_path / "contacts.csv"
    contacts.write_text("Contact E-mail;Contact Name;Opted In\ncyd@example.com;Lovelace, Cyd;Y\n", encoding="utf-8")
    assert "Mapping: hello-contacts" in cli("import-csv", "shop", str(contacts), "--kind", "customers", "--mapping", "auto")
    with sqlite3.connect(tmp_path / "crm.db") as db:
        assert db.execute("SELECT c.first_name, c.last_name, e.state FROM customer c JOIN consent_event e ON "
                          "e.customer_id = c.id WHERE c.email = 'cyd@example.com'").fetchall() == [
            ("Cyd", "Lovelace", "SUBSCRIBED")]
    # Without the plugin on the path it is simply not there.
    env["PYTHONPATH"] = str(ROOT)
    assert "hello" not in cli("plugins")
