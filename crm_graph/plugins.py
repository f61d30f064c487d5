"""The plugin manager: default plugins, entry-point plugins, and the switches to restrict and trace them.

Third-party plugins are found through the entry-point group ``crm_graph`` (the built-in connectors
are installed the same way, each as its own distribution). Two environment variables:

- ``CRM_GRAPH_PLUGINS``: a comma-separated list of entry-point names to load (``csv,shopify``);
  unset loads all, an empty value loads none.
- ``CRM_GRAPH_TRACE_PLUGINS``: when ``1``, every hook call and result is written to standard error.
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
from dataclasses import dataclass
from importlib.metadata import Distribution, entry_points

import pluggy

from crm_graph import hookspecs
from crm_graph.errors import ConfigurationError, UserError

ENTRY_POINT_GROUP = "crm_graph"
ENV_PLUGINS = "CRM_GRAPH_PLUGINS"
ENV_TRACE = "CRM_GRAPH_TRACE_PLUGINS"
DEFAULT_PLUGINS = ("crm_graph.default_hooks",)

_lock = threading.Lock()
_manager: "PluginManager | None" = None


@dataclass(frozen=True)
class PluginInfo:
    """An installed plugin: its name, the distribution and version it comes from, its hooks."""

    name: str
    distribution: str | None
    version: str | None
    hooks: tuple[str, ...]
    default: bool


def _allowed() -> set[str] | None:
    value = os.environ.get(ENV_PLUGINS)
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


class PluginManager(pluggy.PluginManager):
    """pluggy's manager that also remembers which distribution each entry-point plugin came from."""

    def __init__(self) -> None:
        super().__init__("crm_graph")
        self.distributions: dict[str, Distribution] = {}


def build_plugin_manager() -> PluginManager:
    """A new plugin manager with the default plugins and the allowed entry-point plugins loaded."""
    pm = PluginManager()
    pm.add_hookspecs(hookspecs)
    for module_name in DEFAULT_PLUGINS:
        pm.register(importlib.import_module(module_name), name=module_name)
    allowed = _allowed()
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if allowed is not None and ep.name not in allowed:
            continue
        if pm.get_plugin(ep.name) is not None or pm.is_blocked(ep.name):
            continue
        plugin = ep.load()
        pm.register(plugin, name=ep.name)
        if ep.dist is not None:
            pm.distributions[ep.name] = ep.dist
    if os.environ.get(ENV_TRACE, "") not in ("", "0"):
        pm.trace.root.setwriter(lambda message: sys.stderr.write(message))
        pm.enable_tracing()
    return pm


def get_plugin_manager() -> PluginManager:
    """The process-wide plugin manager, built on first use."""
    global _manager
    with _lock:
        if _manager is None:
            _manager = build_plugin_manager()
        return _manager


def reset_plugin_manager() -> None:
    """Forget the plugin manager so that the next use rebuilds it (tests, after installing a plugin)."""
    global _manager
    with _lock:
        _manager = None


def list_plugins() -> list[PluginInfo]:
    """Every registered plugin with its distribution, version and the hooks it implements."""
    pm = get_plugin_manager()
    out = []
    for name, plugin in sorted(pm.list_name_plugin(), key=lambda item: item[0]):
        if plugin is None:
            continue
        hooks = tuple(sorted(caller.name for caller in pm.get_hookcallers(plugin) or ()))
        dist = pm.distributions.get(name)
        out.append(PluginInfo(
            name=name,
            distribution=dist.metadata["Name"] if dist else None,
            version=dist.version if dist else None,
            hooks=hooks,
            default=name in DEFAULT_PLUGINS,
        ))
    return out


def _joined(results) -> list:
    return [item for result in results for item in (result or ())]


def _by_unique_name(results, what: str) -> dict:
    """The registered items of a hook's `results` by their `name`; two different items of one name are
    a UserError (two installed plugins claim it)."""
    found = {}
    for item in _joined(results):
        if item.name in found and found[item.name] is not item:
            raise UserError(f"Two plugins register {what} named {item.name!r}; uninstall one.")
        found[item.name] = item
    return found


#: The most connectors the installed plugins may provide (the API lists them all at once).
MAX_CONNECTORS = 100
#: The most settings one connector may have.
MAX_CONNECTOR_SETTINGS = 50


def connector_classes() -> dict:
    """Every registered connector class by name; more than `MAX_CONNECTORS` is a configuration error."""
    found = _by_unique_name(get_plugin_manager().hook.register_connectors(), "a connector")
    if len(found) > MAX_CONNECTORS:
        raise ConfigurationError(f"The installed plugins provide {len(found)} connectors, more than the "
                                 f"{MAX_CONNECTORS} crm-graph supports; uninstall some.")
    for cls in found.values():
        if len(cls.settings_model.model_fields) > MAX_CONNECTOR_SETTINGS:
            raise ConfigurationError(f"Connector {cls.name!r} has more than {MAX_CONNECTOR_SETTINGS} settings, "
                                     "more than crm-graph supports.")
    return found


def get_connector_class(name: str):
    """The connector class named `name`, or a UserError listing the installed ones."""
    classes = connector_classes()
    try:
        return classes[name]
    except KeyError:
        known = ", ".join(sorted(classes)) or "none"
        raise UserError(
            f"No connector named {name!r} is installed (installed: {known}); `pip install` its plugin.",
            code="NOT_FOUND",
        ) from None


def csv_kinds() -> dict:
    """Every registered CSV kind by name."""
    return {kind.name: kind for kind in _joined(get_plugin_manager().hook.register_csv_kinds())}


def csv_mappings() -> dict:
    """Every registered CSV header mapping by name."""
    return {mapping.name: mapping for mapping in _joined(get_plugin_manager().hook.register_csv_mappings())}


def metrics() -> dict:
    """Every registered analytics metric (`crm_graph.services.analytics.contract.Metric`) by name."""
    return _by_unique_name(get_plugin_manager().hook.register_metrics(), "an analytics metric")
