"""What every service call gets: the stores, the settings and the clock (injected for tests)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from domain.ports import Stores
from domain.settings import Settings
from domain.timeutil import Clock, system_clock


@dataclass
class Ctx:
    stores: Stores
    settings: Settings = field(default_factory=Settings)
    clock: Clock = system_clock

    def now(self) -> dt.datetime:
        return self.clock()
