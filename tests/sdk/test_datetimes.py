"""Dates and times: described layouts, values rewritten in them, values a query tells."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from edgeagent.datetimes import as_told, at, clock, conform, described_layout, readings, told, told_in
from edgeagent.grounding import QueryFacts

NOW = dt.datetime(2026, 3, 17, 14, 5)  # a Tuesday

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
    assert told_in("07:00", "Wake me up at 7") and told_in("19:00", "Wake me up at 7 tomorrow")
    assert told_in("20:00", "remind me at 8 to call mom") and not told_in("08:00", "remind me tonight at 8")
    assert not told_in("07:00", "a car at 7 m/s") and not told_in("12:00", "interest at 12 percent")
    assert told_in("2024-03", "What events are there in March 2024?")
    assert told_in("2024-03-03", "events on March 3rd 2024") and not told_in("2024-03-04", "events on March 3rd 2024")
    assert told_in("2023-07-05", "Any events on the 5th of July, 2023?")
    assert told_in("25-12-2024", "Events on 12/25/2024") and told_in("2025-12-25", "Christmas, 12/25")  # any year
    said = "March 3, 2024 at 6pm"
    assert told_in("2024-03-03T18:00", said) and not told_in("2024-03-03T19:00", said)
    with at(NOW):  # a Tuesday: "next Tuesday" is the one a week on
        assert told_in("2026-03-24", "next Tuesday") and not told_in("2024-03-05", "next Tuesday")
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
    with at(NOW):
        out = as_told({"v": value}, {"v": f"in the format {text}"}, text)
        assert set(out) <= {"v"} and all(isinstance(v, str) for v in out.values())
    out = conform(value, f"in the format {text}", text)
    assert out is None or isinstance(out, str)
    for description in ("YYYY-MM-DD HH:MM:SS", "hh:mm AM/PM", "dd/mm/yyyy"):
        out = conform(value, description, text)
        assert out is None or readings(out, described_layout(description))


def test_words_for_a_day_or_a_moment_from_now_tell_what_they_come_to_as_of_the_clock():
    with at(NOW):
        assert told("tomorrow at 9am") == ([{"year": 2026, "month": 3, "day": 18}],
                                           [{"hour": 9, "minute": 0, "second": 0}])
        assert told("the day after tomorrow")[0] == [{"year": 2026, "month": 3, "day": 19}]
        assert told("yesterday")[0] == [{"year": 2026, "month": 3, "day": 16}]
        assert told("in 2 hours") == ([{"year": 2026, "month": 3, "day": 17}], [{"hour": 16, "minute": 5, "second": 0}])
        assert told("What time is it now?")[1] == [{"hour": 14, "minute": 5, "second": 0}]
        assert told("Now, add 2 and 3") == ([], [])  # a sentence's opening "Now" tells no time
        assert clock() == NOW
    with at(dt.datetime(2030, 1, 1)):
        assert told("today")[0] == [{"year": 2030, "month": 1, "day": 1}]
    assert clock() != NOW  # reset after the block: the local clock


def test_a_date_or_time_the_model_made_up_is_written_as_the_user_told_it():
    with at(NOW):
        # the model's own "today" (a day of its training data) for the user's
        assert as_told({"when": "2023-10-01 09:00", "text": "Call mom"}, {}, "Remind me to call mom tomorrow at 9am") \
            == {"when": "2026-03-18 09:00"}
        assert as_told({"when": "2023-10-01T14:00:00Z"}, {}, "in 2 hours") == {"when": "2026-03-17T16:05:00Z"}
        assert as_told({"date": "04/15/2023"}, {}, "any matches today?") == {"date": "03/17/2026"}  # its own layout
        assert as_told({"t": "10:00 AM"}, {}, "wake me at 7am tomorrow") == {"t": "07:00 AM"}
        # several dates: all move with the first ("for 3 nights"), or each to its own in order
        assert as_told({"check_in": "2023-10-01", "check_out": "2023-10-04"}, {}, "a room from tomorrow for 3 nights") \
            == {"check_in": "2026-03-18", "check_out": "2026-03-21"}
        assert as_told({"start": "2023-10-02", "end": "2023-10-06"}, {}, "from Monday to Friday next week") \
            == {"start": "2026-03-23", "end": "2026-03-27"}
        assert as_told({"start": "2026-03-17", "end": "2023-10-06"}, {}, "from today until Friday") == \
            {"end": "2026-03-20"}  # today is written: Friday is the one date left
        # a word for a day where a layout is described
        assert as_told({"date": "tomorrow"}, {"date": "The date, in mm-dd-yyyy format"}, "rain tomorrow?") \
            == {"date": "03-18-2026"}
        # nothing is guessed: the user's own date and year, no date told, two readings of a time,
        # two values for one told date and time, words that are not dates
        assert as_told({"date": "06-01-2023"}, {}, "the UV index for tomorrow, June01 2023") == {}
        assert as_told({"date": "2023-06-01"}, {}, "the UV index on June 1st, 2023 and tomorrow") == {}
        assert as_told({"date": "2023-10-01"}, {}, "the weather next month") == {}
        assert as_told({"time": "10:00"}, {}, "wake me at 7:30 tomorrow") == {}
        # unless the part of the day tells which
        assert as_told({"when": "2023-10-01 08:30"}, {}, "remind me tonight at 8:30") == {"when": "2026-03-17 20:30"}
        assert as_told({"time": "19:15"}, {}, "wake me at 7:15 in the morning") == {"time": "07:15"}
        assert as_told({"a": "10:00", "b": "11:00"}, {}, "at 7am") == {}
        assert as_told({"city": "Paris", "date": "next Friday"}, {}, "Paris next Friday") == {}
        # a date for a date and time: the one time told is added, in the described layout
        assert as_told({"when": "2023-03-20"}, {"when": "When, 'YYYY-MM-DD HH:MM'"}, "on March 20 at 3pm") == \
            {"when": "2026-03-20 15:00"}
        assert as_told({"when": "2026-03-20"}, {"when": "When, 'YYYY-MM-DD'"}, "on March 20 at 3pm") == {}
        # a day told without its year is the nearest such day, before or after
        assert as_told({"when": "2023-03-20 15:00"}, {}, "Remind me on March 20 at 3pm") == {"when": "2026-03-20 15:00"}
        assert as_told({"date": "2023-03-03"}, {}, "What was the weather on March 3rd?") == {"date": "2026-03-03"}
        assert as_told({"date": "2023-12-25"}, {}, "plans for 12/25?") == {"date": "2025-12-25"}
        assert as_told({"date": "2024-03-20"}, {}, "on March 20, 2024") == {}  # the user's year
        # a date moved past the calendar's end is left as written
        assert as_told({"a": "2020-01-01", "b": "9999-12-30"}, {}, "from tomorrow") == {"a": "2026-03-18"}


@given(st.integers(0, 400), st.sampled_from(["%Y-%m-%d", "%m/%d/%Y", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S"]),
       st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2025, 12, 31)), st.booleans())
def test_a_made_up_date_becomes_the_one_the_user_counted_from_now(days, layout, made_up, by_words):
    said = f"in {days} days" if by_words else f"{days} days from now"
    value = dt.datetime.combine(made_up, dt.time(9, 30)).strftime(layout)
    with at(NOW):
        out = as_told({"when": value}, {}, f"Remind me {said}")
        if days == 0 and made_up == NOW.date():
            assert out == {}
            return
        new = dt.datetime.strptime(out["when"], layout)
        assert new.date() == NOW.date() + dt.timedelta(days=days) and new.time() == dt.datetime.strptime(
            value, layout).time()  # the model's time stays: the user told none
        assert as_told(out, {}, f"Remind me {said}") == {}  # written as told: nothing more to change


@given(st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)),
       st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 12, 31)))
def test_a_day_told_without_its_year_is_the_nearest_such_day(day, today):
    said = f"on {day:%B} {day.day}"
    value = day.replace(year=2000 if day.month == 2 and day.day == 29 else 1999).isoformat()
    with at(dt.datetime.combine(today, dt.time(12))):
        out = as_told({"date": value}, {}, said)
    new = dt.date.fromisoformat(out.get("date", value))
    assert (new.month, new.day) == (day.month, day.day)
    for year in range(today.year - 4, today.year + 5):  # no day of that name is nearer
        try:
            other = dt.date(year, day.month, day.day)
        except ValueError:
            continue
        assert abs(new - today) <= abs(other - today)
