"""arXiv's announcement calendar: which days have a mailing and which
submission window each mailing holds. Pure functions of dates.

arXiv announces Sunday-Thursday at 20:00 US/Eastern; the mailing is dated the
next day (Mon-Fri). Submissions close at 14:00 ET, so the mailing dated D holds
papers submitted between the cutoff two business days before D and the cutoff
on the business day before D. Daylight saving is handled by zoneinfo.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from newsletter.errors import NoMailing

ET = ZoneInfo("America/New_York")
CUTOFF = time(14, 0)
ANNOUNCE = time(20, 0)


@dataclass(frozen=True)
class Window:
    start: datetime  # UTC, inclusive
    end: datetime  # UTC, exclusive


def is_mailing_day(d: date) -> bool:
    return d.weekday() < 5


def require_mailing_day(d: date) -> None:
    if not is_mailing_day(d):
        raise NoMailing(f"arXiv has no mailing on {d.strftime('%A')} {d.isoformat()}; pick a weekday")


def previous_business_day(d: date) -> date:
    d -= timedelta(days=1)
    while d.weekday() >= 5:
        d -= timedelta(days=1)
    return d


def _et(d: date, t: time) -> datetime:
    return datetime.combine(d, t, tzinfo=ET).astimezone(timezone.utc)


def submission_window(d: date) -> Window:
    """The submission window (UTC) of the mailing dated ``d``."""
    require_mailing_day(d)
    last = previous_business_day(d)
    first = previous_business_day(last)
    return Window(_et(first, CUTOFF), _et(last, CUTOFF))


def announced_at(d: date) -> datetime:
    """When the mailing dated ``d`` appears (20:00 ET the evening before)."""
    require_mailing_day(d)
    return _et(d - timedelta(days=1), ANNOUNCE)


def latest_mailing(now: datetime) -> date:
    """The newest mailing already announced at ``now``."""
    d = now.astimezone(ET).date() + timedelta(days=1)
    while not is_mailing_day(d) or announced_at(d) > now:
        d -= timedelta(days=1)
    return d


def signal_window(d: date, hours: float, now: datetime) -> Window:
    """The time span in which posts about the papers of ``d`` are looked for:
    from the opening of its submission window (ids exist from then) until
    ``hours`` after the announcement, and never past ``now``."""
    start = submission_window(d).start
    end = min(announced_at(d) + timedelta(hours=hours), now)
    return Window(start, max(end, start))


def week_key(d: date) -> str:
    """'2026-W31': the ISO week of ``d``."""
    year, week, _ = d.isocalendar()
    return f"{year}-W{week:02d}"


def parse_week(value: str) -> date:
    """The Monday of a week given as any date of it, or as 2026-W31."""
    value = value.strip()
    if "-W" in value.upper():
        year, _, week = value.upper().partition("-W")
        return date.fromisocalendar(int(year), int(week), 1)
    d = date.fromisoformat(value)
    return d - timedelta(days=d.weekday())


def week_mailings(d: date) -> list[date]:
    """The five mailing days (Monday to Friday) of ``d``'s ISO week."""
    monday = d - timedelta(days=d.weekday())
    return [monday + timedelta(days=i) for i in range(5)]


def week_window(d: date, window_days: float, now: datetime) -> Window:
    """A week's signal window: from its first mailing's submission start to
    ``window_days`` after its last announcement, never past ``now``."""
    days = week_mailings(d)
    start = submission_window(days[0]).start
    end = min(announced_at(days[-1]) + timedelta(days=window_days), now)
    return Window(start, max(end, start))


def daily_cutoff(d: date, hours: float) -> datetime:
    """Until when posts count for the daily issue of ``d``."""
    return announced_at(d) + timedelta(hours=hours)
