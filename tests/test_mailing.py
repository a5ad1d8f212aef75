from datetime import date, datetime, timedelta, timezone

import pytest

from newsletter import mailing
from newsletter.errors import NoMailing


def utc(*a):
    return datetime(*a, tzinfo=timezone.utc)


# 2026-03-02 is a Monday in EST (UTC-5): cutoffs at 19:00 UTC
@pytest.mark.parametrize(
    "day, start, end",
    [
        (date(2026, 3, 2), utc(2026, 2, 26, 19), utc(2026, 2, 27, 19)),  # Mon: Thu -> Fri
        (date(2026, 3, 3), utc(2026, 2, 27, 19), utc(2026, 3, 2, 19)),  # Tue: Fri -> Mon
        (date(2026, 3, 4), utc(2026, 3, 2, 19), utc(2026, 3, 3, 19)),  # Wed: Mon -> Tue
        (date(2026, 3, 5), utc(2026, 3, 3, 19), utc(2026, 3, 4, 19)),  # Thu: Tue -> Wed
        (date(2026, 3, 6), utc(2026, 3, 4, 19), utc(2026, 3, 5, 19)),  # Fri: Wed -> Thu
        # summer, EDT (UTC-4): cutoffs at 18:00 UTC
        (date(2026, 7, 31), utc(2026, 7, 29, 18), utc(2026, 7, 30, 18)),
        (date(2026, 7, 28), utc(2026, 7, 24, 18), utc(2026, 7, 27, 18)),
    ],
)
def test_submission_window_every_weekday(day, start, end):
    w = mailing.submission_window(day)
    assert (w.start, w.end) == (start, end)


def test_window_across_spring_forward():
    # DST starts Sunday 2026-03-08: Friday's cutoff is EST, Monday's is EDT
    w = mailing.submission_window(date(2026, 3, 10))  # Tuesday
    assert w.start == utc(2026, 3, 6, 19)
    assert w.end == utc(2026, 3, 9, 18)
    assert w.end - w.start == timedelta(days=3, hours=-1)  # the weekend lost an hour


def test_window_across_fall_back():
    # DST ends Sunday 2026-11-01: Friday's cutoff is EDT, Monday's is EST
    w = mailing.submission_window(date(2026, 11, 3))  # Tuesday
    assert w.start == utc(2026, 10, 30, 18)
    assert w.end == utc(2026, 11, 2, 19)


@pytest.mark.parametrize("day", [date(2026, 8, 1), date(2026, 8, 2)])
def test_weekend_has_no_mailing(day):
    with pytest.raises(NoMailing) as e:
        mailing.submission_window(day)
    assert "no mailing" in str(e.value)
    assert e.value.exit_code == 3


def test_announcement_and_latest_mailing():
    # Monday's mailing appears Sunday 20:00 ET
    assert mailing.announced_at(date(2026, 3, 2)) == utc(2026, 3, 2, 1)
    assert mailing.latest_mailing(utc(2026, 3, 2, 0, 59)) == date(2026, 2, 27)  # still Friday's
    assert mailing.latest_mailing(utc(2026, 3, 2, 1, 0)) == date(2026, 3, 2)
    assert mailing.latest_mailing(utc(2026, 8, 1, 12)) == date(2026, 7, 31)  # Saturday
    assert mailing.latest_mailing(utc(2026, 8, 2, 22)) == date(2026, 7, 31)  # Sunday before 20:00 ET


def test_signal_window_is_capped_by_now():
    now = utc(2026, 7, 31, 6)
    w = mailing.signal_window(date(2026, 7, 31), 48, now)
    assert w.start == utc(2026, 7, 29, 18) and w.end == now
    w = mailing.signal_window(date(2026, 7, 31), 48, utc(2026, 9, 1))
    assert w.end == utc(2026, 8, 2, 0)
