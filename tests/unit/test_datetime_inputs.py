"""timeutil's readings of request datetimes (the outcomes were taken from prefect 2.20.26's own
parsers: pendulum 2 for ``DateTimeTZ`` body fields, pydantic.v1's ``datetime`` for query ones)."""

from __future__ import annotations

import datetime as dt

import pytest

from domain.timeutil import DateTimeInputError, parse_body_datetime, parse_query_datetime

UTC = dt.timezone.utc
NOW = dt.datetime(2026, 12, 1, 22, 44, 5, 123, tzinfo=UTC)


class TestBodyDatetime:
    @pytest.mark.parametrize(("text", "expected"), [
        ("2023", dt.datetime(2023, 1, 1, tzinfo=UTC)),
        ("202311", dt.datetime(2026, 12, 1, 20, 23, 11, tzinfo=UTC)),  # hhmmss today (UTC)
        ("000101", dt.datetime(2026, 12, 1, 0, 1, 1, tzinfo=UTC)),
        ("2024366", dt.datetime(2024, 12, 31, tzinfo=UTC)),  # ordinal day of a leap year
        ("20231114", dt.datetime(2023, 11, 14, tzinfo=UTC)),
        ("１２３４", dt.datetime(1234, 1, 1, tzinfo=UTC)),  # any script's digits
        ("2023-11-14T12:00:00-05:00", dt.datetime(2023, 11, 14, 12, tzinfo=dt.timezone(dt.timedelta(hours=-5)))),
    ])
    def test_digit_only_texts_are_pendulums_basic_forms(self, text, expected):
        got = parse_body_datetime(text, NOW)
        assert got == expected and got.utcoffset() == expected.utcoffset()

    @pytest.mark.parametrize(("value", "msg", "kind"), [
        (1700000000, "Unrecognized datetime.", "value_error"),
        (True, "Unrecognized datetime.", "value_error"),
        ({}, "Unrecognized datetime.", "value_error"),
        ("1700000000", "Unable to parse string [1700000000]", "value_error.parser"),
        ("120000", "Unable to parse string [120000]", "value_error.parser"),  # 00 is no month
        ("240101", "Unable to parse string [240101]", "value_error.parser"),  # hour 24
        ("2023366", "Unable to parse string [2023366]", "value_error.parser"),  # not a leap year
        ("0000001", "Unable to parse string [0000001]", "value_error.parser"),
        (" 2023-01-01", "Unable to parse string [ 2023-01-01]", "value_error.parser"),
        ("2023-02-30", "Unable to parse string [2023-02-30]", "value_error.parser"),
        ("", "year 0 is out of range", "value_error"),
        ("00000101", "year 0 is out of range", "value_error"),
        ("20230230", "day is out of range for month", "value_error"),
    ])
    def test_refusals_carry_the_references_text_and_type(self, value, msg, kind):
        with pytest.raises(DateTimeInputError) as exc:
            parse_body_datetime(value, NOW)
        assert (str(exc.value), exc.value.kind) == (msg, kind)


class TestQueryDatetime:
    @pytest.mark.parametrize(("text", "expected"), [
        ("0", dt.datetime(1970, 1, 1, tzinfo=UTC)),
        ("1700000000", dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        ("1e12", dt.datetime(2001, 9, 9, 1, 46, 40, tzinfo=UTC)),  # beyond 2e10: milliseconds
        ("1e400", dt.datetime.max.replace(tzinfo=UTC)),
        ("-inf", dt.datetime.min.replace(tzinfo=UTC)),
        ("2023-01-01 05:06:07.5+05", dt.datetime(2023, 1, 1, 5, 6, 7, 500000, tzinfo=dt.timezone(dt.timedelta(hours=5)))),
    ])
    def test_numbers_are_unix_time_and_text_is_v1s_form(self, text, expected):
        assert parse_query_datetime(text) == expected

    @pytest.mark.parametrize(("text", "msg", "kind"), [
        ("nan", "cannot convert float NaN to integer", "value_error"),
        ("2023-01-01", "invalid datetime format", "value_error.datetime"),
        ("2023-13-01T00:00", "month must be in 1..12", "value_error"),
    ])
    def test_refusals(self, text, msg, kind):
        with pytest.raises(DateTimeInputError) as exc:
            parse_query_datetime(text)
        assert (str(exc.value), exc.value.kind) == (msg, kind)
