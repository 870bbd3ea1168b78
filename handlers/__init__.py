"""Lambda entry points: one module per route, each exposing ``router`` and ``handler``."""

from handlers import _coldstart

_coldstart.install()  # FastAPI import savings that change no behaviour (see handlers/_coldstart.py)
