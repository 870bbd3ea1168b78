"""flowplane's rules: wire schemas, schedules, scheduling, filters, hydration, validation, services.

Nothing in this package talks to AWS or to a web framework; adapters live in ``infra`` and the
Lambda/HTTP entry points in ``handlers`` (enforced by an import-linter contract).
"""
