"""The CSV import service: kinds and mappings from plugins, hooks called, rejects reported in a file."""

import pytest

from crm_graph.errors import UserError
from crm_graph.hookspecs import hookimpl
from crm_graph.plugins import get_plugin_manager
from crm_graph.services.csv_import import import_csv
from tests.ingest_helpers import rows

ORDERS = (
    "order_id,placed_at,status,total,email,channel,product_id,product_name,quantity,unit_price\n"
    "1,2026-03-01T10:00:00Z,paid,20.00,ann@example.com,,p1,Tea,2,10.00\n"
    "2,2026-03-02T10:00:00Z,paid,5.00,ann@example.com,newsletter,p1,Tea,1,5.00\n"
    "3,not a date,paid,5.00,bob@example.com,,p1,Tea,1,5.00\n"
)


class Recorder:
    """A plugin that watches the notifications and names channels its own way."""

    def __init__(self):
        self.ingested, self.imported = [], []

    @hookimpl
    def records_ingested(self, store_id, source, counts):
        self.ingested.append((store_id, source, counts["created"]))

    @hookimpl
    def csv_imported(self, kind, summary):
        self.imported.append((kind, summary.counts["created"], summary.counts["rejected"]))

    @hookimpl
    def acquisition_channel_for_order(self, order):
        return "email / newsletter" if order.channel == "newsletter" else None


@pytest.fixture
def recorder():
    plugin = Recorder()
    get_plugin_manager().register(plugin, name="recorder")
    yield plugin
    get_plugin_manager().unregister(plugin)


def test_import_calls_the_hooks_and_reports_rejects(engine, store, tmp_path, recorder):
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS, encoding="utf-8")
    progress = []
    summary = import_csv(engine, store.id, path, "orders", progress=lambda done, total: progress.append((done, total)))
    assert (summary.counts["created"], summary.counts["rejected"]) == (2, 1)
    assert recorder.ingested == [(store.id, "csv", 2)] and recorder.imported == [("orders", 2, 1)]
    assert progress[-1] == (path.stat().st_size, path.stat().st_size)
    # The first order's channel is empty: the plugin answers None and the core default keeps None.
    assert rows(engine, "SELECT external_id, channel FROM orders WHERE store_id = :s ORDER BY external_id",
                s=store.id) == [("1", None), ("2", "email / newsletter")]
    assert rows(engine, "SELECT acquisition_channel FROM customer WHERE store_id = :s", s=store.id) == [
        ("email / newsletter",)]
    report = (tmp_path / "orders.csv.rejects.csv").read_text("utf-8").splitlines()
    assert report[0] == "line,record,reason" and report[1].startswith("4,order 3,placed_at 'not a date'")
    assert summary.rejects_path == str(tmp_path / "orders.csv.rejects.csv")


def test_a_clean_reimport_removes_the_stale_rejects_report(engine, store, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS, encoding="utf-8")
    import_csv(engine, store.id, path, "orders")
    path.write_text(ORDERS.rsplit("3,", 1)[0], encoding="utf-8")
    summary = import_csv(engine, store.id, path, "orders")
    assert summary.rejects_path is None and not (tmp_path / "orders.csv.rejects.csv").exists()
    assert summary.counts["unchanged"] == 2


def test_bad_arguments_are_user_errors(engine, store, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(UserError, match="kind: 'sales'"):
        import_csv(engine, store.id, path, "sales")
    with pytest.raises(UserError, match="does not exist"):
        import_csv(engine, store.id, tmp_path / "missing.csv", "orders")
    with pytest.raises(UserError, match="required column"):
        import_csv(engine, store.id, path, "orders")
    with pytest.raises(UserError, match="mapping: 'shopify-customers' is for customers files"):
        import_csv(engine, store.id, path, "orders", mapping="shopify-customers")
