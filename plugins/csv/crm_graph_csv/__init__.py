"""crm-graph's CSV plugin: documented CSV kinds and ready header mappings for foreign exports."""

__version__ = "0.1.0"
