"""Core data model: dtypes, abstract values, the trace stack, Program IR and pytrees."""
