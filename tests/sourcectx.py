"""A SourceContext for calling one source's ``collect`` directly."""

from __future__ import annotations

from datetime import date

from newsletter.sources.base import NullReporter, SourceContext


def ctx(http, config, *, window, now, env=None, day: date | None = None) -> SourceContext:
    return SourceContext(http=http, config=config, env=env or {}, window=window, day=day or window.start.date(),
                         now=lambda: now, reporter=NullReporter())
