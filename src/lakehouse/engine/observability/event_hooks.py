"""Event hooks (``@on_event_hook``): user functions called with each event the update logs.

As Databricks runs them: every hook sees every event except ``hook_progress`` ones, one hook
at a time; a hook that raises is counted, and after ``max_allowable_consecutive_failures``
failures in a row it is disabled until the next update. Failures and disabling are logged as
``hook_progress`` events. Hooks run in the update's own thread, so a slow hook slows it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from lakehouse.engine.errors import exception_line
from lakehouse.engine.graph.elements import EventHook

Emit = Callable[[str, str, dict[str, Any]], None]


@dataclass
class EventHooks:
    """The update's hooks and their consecutive failures.

    Example:
        >>> hooks = EventHooks([EventHook(print, "print", None)])
        >>> hooks.run({"event_type": "update_progress"}, emit=lambda *a: None)  # doctest: +SKIP
    """

    hooks: Sequence[EventHook]
    failures: dict[str, int] = field(default_factory=dict)
    disabled: set[str] = field(default_factory=set)

    def run(self, event: dict[str, Any], emit: Emit) -> None:
        for hook in self.hooks:
            if hook.name in self.disabled:
                continue
            try:
                hook.function(event)
            except Exception as error:
                self._failed(hook, error, emit)
            else:
                self.failures[hook.name] = 0

    def _failed(self, hook: EventHook, error: Exception, emit: Emit) -> None:
        failures = self.failures.get(hook.name, 0) + 1
        self.failures[hook.name] = failures
        limit = hook.max_consecutive_failures
        disabled = limit is not None and failures > limit
        status = "DISABLED" if disabled else "FAILED"
        if disabled:
            self.disabled.add(hook.name)
        emit(
            f"Event hook '{hook.name}' {status.lower()}: {exception_line(error)}",
            status,
            {"name": hook.name, "status": status, "consecutive_failures": failures},
        )
