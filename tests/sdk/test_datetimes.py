"""Dates and times: described layouts, values rewritten in them, values a query tells."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from edgeagent.datetimes import conform, described_layout, readings, told_in
from edgeagent.grounding import QueryFacts

# layout as a description writes it -> strftime
LAYOUTS = {"YYYY-MM-DD": "%Y-%m-%d", "mm-dd-yyyy": "%m-%d-%Y", "DD/MM/YYYY": "%d/%m/%Y", "yyyy.mm.dd": "%Y.%m.%d",
           "HH:MM": "%H:%M", "HH:MM:SS": "%H:%M:%S", "YYYY-MM-DD HH:MM:SS": "%Y-%m-%d %H:%M:%S",
           "yyyy-mm-ddThh:mm": "%Y-%m-%dT%H:%M", "hh:mm AM/PM": "%I:%M %p", "YYYY-MM": "%Y-%m"}


def test_a_described_layout_is_read_with_minutes_after_an_hour():
    assert described_layout("The alarm time in 24-hour format 'HH:MM'.") == ["hour", ":", "minute"]
    assert described_layout("Start (YYYY-MM-DD HH:MM:SS)") == \
        ["year", "-", "month", "-", "day", " ", "hour", ":", "minute", ":", "second"]
    assert described_layout("The date (month-day-year) of it.") == ["month", "-", "day", "-", "year"]
    assert described_layout("The time, hh:mm AM/PM") == ["hour", ":", "minute", " ", "am/pm"]
    # no layout: a field twice (a season), one field, codes inside words, prose
    for prose in ("The season in format yyyy/yyyy. Eg. 2020/2021", "Length in mm", "The address of the command",
                  "The day of the month", "Time of day, e.g. '07:00 AM'"):
        assert described_layout(prose) is None, prose


def test_a_date_or_time_is_rewritten_in_the_described_layout():
    assert conform("06:30 AM", "in 24-hour format 'HH:MM'") == "06:30"
    assert conform("7:00 PM", "'HH:MM'") == "19:00"
    assert conform("19:00:00", "HH:MM") == "19:00"  # a zero second may go
    assert conform("17:45", "HH:MM:SS") == "17:45:00"  # or come
    assert conform("19:00", "hh:mm AM/PM") == "07:00 PM"
    assert conform("3-03-2024", "dd-mm-yyyy") == "03-03-2024"  # unpadded in the layout's own order
    assert conform("12/25/2024", "dd-mm-yyyy") == "25-12-2024"  # no 25th month: month first
    assert conform("2023-07-05", "dd-mm-yyyy") == "05-07-2023"
    assert conform("2024-03-03 18:30", "YYYY-MM-DD HH:MM:SS") == "2024-03-03 18:30:00"
    # nothing to rewrite: already so, another set of fields, not a real date, not a date
    assert conform("05-07-2023", "dd-mm-yyyy") is None
    assert conform("2023-06-01T10:00", "mm-dd-yyyy") is None  # the time would be lost
    assert conform("2024-03", "YYYY-MM-DD") is None  # no day to write
    assert conform("19:00:30", "HH:MM") is None
    assert conform("2023-02-30", "mm-dd-yyyy") is None
    assert conform("2022/8-16", "mm-dd-yyyy") is None  # two separators
    assert conform("June 1st", "mm-dd-yyyy") is None
    assert conform("06:30", "The alarm time") is None


def test_a_field_the_layout_has_no_place_for_goes_where_the_user_did_not_give_it():
    month = "Date of the concert in 'mm-yyyy' format."
    assert conform("2022-04-20", month, "Beyonce in San Diego next month (April 2022)") == "04-2022"  # a made-up day
    assert conform("2022-04-20", month, "Beyonce in San Diego on April 20, 2022") is None  # the user's day
    assert conform("2022-04-20", month) is None  # nobody's words to judge by
    assert conform("2023-06-01T10:00", "mm-dd-yyyy", "on June 1st 2023") == "06-01-2023"
    assert conform("2023-06-01T10:00", "mm-dd-yyyy", "on June 1st 2023 at 10:00") is None


@given(st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2100, 1, 1)),
       st.sampled_from(sorted(LAYOUTS)), st.sampled_from(["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d", "%H:%M",
                                                          "%I:%M %p", "%m/%d/%Y", "%Y-%m"]))
def test_a_rewritten_value_reads_back_as_the_same_moment(moment, layout, written_as):
    moment = moment.replace(microsecond=0)
    value = moment.strftime(written_as)
    out = conform(value, f"in the format {layout}")
    if out is None:
        return
    back = dt.datetime.strptime(out, LAYOUTS[layout])
    given_fields = dt.datetime.strptime(value, written_as)
    fields = [f for f, code in (("year", "%Y"), ("month", "%m"), ("day", "%d"), ("hour", "%H"), ("minute", "%M"),
                                ("second", "%S")) if code in LAYOUTS[layout].replace("%I", "%H")]
    assert all(getattr(back, f) == getattr(given_fields, f) for f in fields)


def test_a_value_is_told_by_a_query_that_tells_the_same_date_or_time():
    assert told_in("06:30", "Set an alarm for 6:30 am")
    assert not told_in("18:30", "Set an alarm for 6:30 am")
    assert told_in("18:30", "Wake me at 6:30")  # no am/pm: either
    assert told_in("19:00:00", "an alarm at 7pm") and told_in("12:00", "lunch at noon")
    assert told_in("2024-03", "What events are there in March 2024?")
    assert told_in("2024-03-03", "events on March 3rd 2024") and not told_in("2024-03-04", "events on March 3rd 2024")
    assert told_in("2023-07-05", "Any events on the 5th of July, 2023?")
    assert told_in("25-12-2024", "Events on 12/25/2024") and told_in("2025-12-25", "Christmas, 12/25")  # any year
    said = "March 3, 2024 at 6pm"
    assert told_in("2024-03-03T18:00", said) and not told_in("2024-03-03T19:00", said)
    assert not told_in("2024-03-05", "next Tuesday")  # words cannot check it
    assert not told_in("Paris", "Paris") and readings("Paris") == []
    # and so the query states it
    assert QueryFacts("Set an alarm for 6:30 am").states("06:30")


@given(st.times(), st.booleans())
def test_a_clock_time_told_with_am_or_pm_is_its_24_hour_value(time, spaced):
    hour12 = (time.hour - 1) % 12 + 1
    said = f"at {hour12}:{time.minute:02d}{' ' if spaced else ''}{'pm' if time.hour >= 12 else 'am'}"
    assert told_in(f"{time.hour:02d}:{time.minute:02d}", said)
    assert not told_in(f"{(time.hour + 1) % 24:02d}:{time.minute:02d}", said)


@given(st.one_of(st.text(max_size=40), st.from_regex(r"\d{1,4}[-/.:]\d{1,2}([-/.:]\d{1,4})?( ?[AaPp]\.?[Mm])?",
                                                    fullmatch=True)),
       st.one_of(st.text(max_size=60), st.from_regex(r"(on|at|in) (\d{1,2}(:\d\d)? ?[ap]m|March \d{1,2}(st|th)?,? \d{4})",
                                                     fullmatch=True)))
def test_any_value_and_text_are_read_without_error(value, text):
    assert isinstance(told_in(value, text), bool)
    out = conform(value, f"in the format {text}", text)
    assert out is None or isinstance(out, str)
    for description in ("YYYY-MM-DD HH:MM:SS", "hh:mm AM/PM", "dd/mm/yyyy"):
        out = conform(value, description, text)
        assert out is None or readings(out, described_layout(description))
