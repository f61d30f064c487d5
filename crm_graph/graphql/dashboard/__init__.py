"""The edrone dashboard (SPEC §4 A–H): one `dashboard` root field whose sub-fields are the widgets."""
