"""How long a webhook channel waits after a 429: ``Retry-After`` in seconds or as an HTTP date."""

from __future__ import annotations

from datetime import datetime, timezone

from alerts.channels._http import rate_limit_wait

CAP = 3600.0
ANSWERED = "Wed, 21 Oct 2026 07:28:00 GMT"
ANSWERED_TS = datetime(2026, 10, 21, 7, 28, tzinfo=timezone.utc).timestamp()


def test_seconds_form_is_kept():
    assert rate_limit_wait("120", cap=CAP) == 120.0
    assert rate_limit_wait(" 7 ", cap=CAP) == 7.0


def test_http_date_is_a_delay_from_the_answers_own_date_header():
    # the host's clock (now) is 5 minutes off: the server's Date header is what counts
    assert rate_limit_wait("Wed, 21 Oct 2026 07:30:00 GMT", ANSWERED, cap=CAP, now=ANSWERED_TS + 300) == 120.0


def test_http_date_without_a_date_header_counts_from_now():
    assert rate_limit_wait("Wed, 21 Oct 2026 07:30:00 GMT", cap=CAP, now=ANSWERED_TS + 30) == 90.0
    assert rate_limit_wait("Wed, 21 Oct 2026 07:30:00 GMT", "not a date", cap=CAP, now=ANSWERED_TS) == 120.0


def test_a_date_in_the_past_or_zero_retries_at_the_minimum_wait():
    assert rate_limit_wait("Wed, 21 Oct 2026 07:00:00 GMT", ANSWERED, cap=CAP) == 1.0
    assert rate_limit_wait("0", cap=CAP) == 1.0


def test_both_forms_are_clamped_to_the_cap():
    assert rate_limit_wait("86400", cap=CAP) == CAP
    assert rate_limit_wait("Thu, 22 Oct 2026 07:28:00 GMT", ANSWERED, cap=CAP) == CAP


def test_missing_or_unreadable_waits_a_minute():
    assert rate_limit_wait(None, cap=CAP) == 60.0
    assert rate_limit_wait("soon", ANSWERED, cap=CAP) == 60.0
    assert rate_limit_wait("1.5", cap=CAP) == 60.0  # RFC 9110 delta-seconds are whole digits
    assert rate_limit_wait(None, cap=30.0) == 30.0
