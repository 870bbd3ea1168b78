"""Use cases. Each function takes a ``Ctx`` and plain data, returns wire-ready dicts."""
