"""The edrone dashboard (docs/metrics.md, widgets A–H): one `dashboard` root field whose sub-fields are the widgets."""
