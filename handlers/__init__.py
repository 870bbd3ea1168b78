"""Lambda entry points: one module per route, each exposing ``router`` and ``handler``."""
