"""Clauses and date annotation of a request (pure functions: property tests)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from edgeagent.request import (annotate_dates, clauses, hands_on, possessions, refused_actions, relative_moments,
                               repetition, says_all_day, stated_duration, stated_time, states_a_date)

WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
NOW = dt.datetime(2026, 3, 13, 9, 0)  # a Friday


def test_clauses_split_on_conjunctions_but_not_list_items_or_quotes():
    assert clauses("Make a note of the meeting with Ana and remind me an hour before") == [
        "Make a note of the meeting with Ana", "remind me an hour before"]
    assert len(clauses("Write a file with apples, bananas and rice, and remind me to shop at 6pm")) == 2
    assert clauses("Put 'Call the bank and pay rent' in a file todo.txt") == [
        "Put 'Call the bank and pay rent' in a file todo.txt"]
    assert clauses("Send Bob the report") == ["Send Bob the report"]
    # a two-word piece is a clause when a verb that reads something starts it
    assert clauses("Read todo.txt and make a note called Todo with its contents") == [
        "Read todo.txt", "make a note called Todo with its contents"]
    assert clauses("Buy milk and eggs") == ["Buy milk and eggs"]
    # a name after "and" goes on a list; after a sentence's end it starts one
    assert clauses("Create a note Books to read with Dune and Emma, tagged reading") == [
        "Create a note Books to read with Dune and Emma, tagged reading"]
    assert clauses("When is my book club? Send the time to Emma.") == ["When is my book club", "Send the time to Emma"]
    assert clauses("Delete the note Old ideas. Remind me at 9am") == ["Delete the note Old ideas", "Remind me at 9am"]
    # after a comma, a verb starts a clause; other words go on a list
    assert clauses("Add Helen Park, helen@example.com, to my contacts, put a party on Saturday in my calendar") == [
        "Add Helen Park, helen@example.com, to my contacts", "put a party on Saturday in my calendar"]
    assert clauses("Write a file listing passport, charger, socks and a hat") == [
        "Write a file listing passport, charger, socks and a hat"]


@given(st.lists(st.text(alphabet="abcdefgh ", min_size=1, max_size=30), min_size=1, max_size=5))
def test_clauses_keep_every_word_in_order(parts):
    text = " and ".join(parts)
    words = [w for w in text.split() if w != "and"]
    got = [w for c in clauses(text) for w in c.split() if w != "and"]
    assert got == words
    assert len(clauses(text)) >= 1


@settings(max_examples=200)
@given(st.datetimes(min_value=dt.datetime(2000, 1, 1), max_value=dt.datetime(2090, 12, 1)),
       st.sampled_from(WEEKDAYS))
def test_weekday_is_the_next_one_with_that_name(now, day):
    text = annotate_dates(f"Call Ana on {day}", now)
    iso = re.search(r"= (\d{4}-\d{2}-\d{2})", text).group(1)
    date = dt.date.fromisoformat(iso)
    assert date.strftime("%A") == day
    assert 1 <= (date - now.date()).days <= 7


def test_words_for_a_day_or_a_moment_from_now_are_counted_from_now():
    assert relative_moments("tomorrow", NOW) == [dt.date(2026, 3, 14)]
    assert relative_moments("the day after tomorrow", NOW) == [dt.date(2026, 3, 15)]
    assert relative_moments("the day before yesterday", NOW) == [dt.date(2026, 3, 11)]
    assert relative_moments("in 2 hours", NOW) == [dt.datetime(2026, 3, 13, 11, 0)]
    assert relative_moments("in half an hour", NOW) == [dt.datetime(2026, 3, 13, 9, 30)]
    assert relative_moments("in a week", NOW) == [dt.date(2026, 3, 20)]
    assert relative_moments("two weeks ago", NOW) == [dt.date(2026, 2, 27)]
    assert relative_moments("in twenty minutes", NOW) == [dt.datetime(2026, 3, 13, 9, 20)]
    assert relative_moments("in seven days", NOW) == relative_moments("in a week", NOW)
    assert relative_moments("in 99999999 days", NOW) == []  # past the calendar
    assert relative_moments("What is the price right now?", NOW) == [NOW]
    assert relative_moments("Now, add 2 and 3", NOW) == []
    # "the day after tomorrow" is a day, not an offset from tomorrow
    assert annotate_dates("Call Ana the day after tomorrow", NOW) == \
        "Call Ana the day after tomorrow\n(the day after tomorrow = 2026-03-15)"


@given(st.integers(0, 3000), st.sampled_from(["day", "week"]), st.booleans())
def test_days_from_now_and_ago_are_as_many_days_either_way(n, unit, ago):
    days = n * (7 if unit == "week" else 1) * (-1 if ago else 1)
    text = f"{n} {unit}s ago" if ago else f"in {n} {unit}s"
    assert relative_moments(text, NOW) == [NOW.date() + dt.timedelta(days=days)]


@settings(max_examples=200)
@given(st.integers(1, 12), st.integers(0, 59), st.sampled_from(["am", "pm"]))
def test_times_become_24_hour(hour, minute, half):
    text = annotate_dates(f"at {hour}:{minute:02d}{half}", NOW)
    hh, mm = map(int, re.search(r"= (\d\d):(\d\d)", text).groups())
    assert mm == minute
    assert hh == (hour % 12) + (12 if half == "pm" else 0)


@settings(max_examples=200)
@given(st.integers(1, 23), st.integers(0, 59))
def test_a_24_hour_time_is_read_as_written(hour, minute):
    """"at 7:15" is 07:15 (not 19:15); an offset is taken from it."""
    text = annotate_dates(f"Flight on Monday at {hour}:{minute:02d}, remind me an hour before", NOW)
    assert f"an hour before = 2026-03-16T{hour - 1:02d}:{minute:02d}" in text
    assert ("= " + f"{hour:02d}:{minute:02d}" in text) == (hour < 10)  # "19:30 = 19:30" says nothing


def test_all_day_is_read_from_the_request():
    assert says_all_day("Add Emma's birthday as an all-day event on March 22")
    assert says_all_day("Block the whole day on Friday") and says_all_day("an All Day event")
    assert not says_all_day("Remind me all the day before") and not says_all_day("a day at the fair")


@given(st.sampled_from([("every day", "daily"), ("daily", "daily"), ("every week", "weekly"),
                        ("every Thursday", "weekly"), ("monthly", "monthly"), ("every year", "yearly")]),
       st.integers(1, 40), st.sampled_from(["{n} times", "repeating {n} times", "for {n} {unit}s"]))
def test_a_repetition_and_its_count_are_read(said, n, count_phrase):
    words, frequency = said
    unit = {"daily": "day", "weekly": "week", "monthly": "month", "yearly": "year"}[frequency]
    text = f"Add a class {words} at 7pm, {count_phrase.format(n=n, unit=unit)}, and remind me an hour before"
    assert repetition(text) == (frequency, n)


def test_a_count_in_another_unit_is_not_the_repetition_count():
    assert repetition("water the plants every day for two weeks") == ("daily", None)
    assert repetition("a weekly review for eight weeks") == ("weekly", 8)
    assert repetition("Remind me tomorrow at 9am, 3 times") is None  # nothing repeats


def test_annotations_go_on_their_own_line_and_the_request_is_unchanged():
    q = "Remind me tomorrow at 3pm and on Friday next week at noon"
    out = annotate_dates(q, NOW)
    first, second = out.split("\n")
    assert first == q
    assert "tomorrow = 2026-03-14" in second and "3pm = 15:00" in second
    assert "Friday next week = 2026-03-20" in second and "noon = 12:00" in second
    assert annotate_dates("Send Bob the report", NOW) == "Send Bob the report"


@settings(max_examples=200)
@given(st.sampled_from(WEEKDAYS), st.integers(1, 12), st.sampled_from(["am", "pm"]),
       st.integers(1, 90), st.sampled_from(["minute", "hour"]), st.sampled_from(["before", "after"]),
       st.booleans())
def test_an_offset_is_applied_to_the_date_and_time_next_to_it(day, hour, half, n, unit, direction, anchor_first):
    anchor, offset = f"the call on {day} at {hour}{half}", f"{n} {unit}s {direction}"
    text = (f"Put {anchor} in my calendar and remind me {offset}" if anchor_first
            else f"Remind me {offset} {anchor}")
    out = annotate_dates(text, NOW)
    day_iso = re.search(rf"{day} = (\S+?)[;)]", out).group(1)
    base = dt.datetime.combine(dt.date.fromisoformat(day_iso), dt.time(hour % 12 + (12 if half == "pm" else 0)))
    delta = dt.timedelta(**{unit + "s": n}) * (-1 if direction == "before" else 1)
    assert f"{offset} = {(base + delta).isoformat(timespec='minutes')}" in out


def test_a_day_offset_keeps_to_days_and_takes_its_own_time():
    out = annotate_dates("Add Emma's birthday on March 22 and remind me the day before at 9am", NOW)
    assert "the day before at 9am = 2026-03-21T09:00" in out
    assert "two days before = 2026-03-18" in annotate_dates("Remind me two days before my flight on March 20", NOW)
    # no date to count from: nothing is made up
    assert "before =" not in annotate_dates("Remind me an hour before the meeting", NOW)


def test_refused_actions_are_the_verbs_the_request_says_not_to_do():
    assert refused_actions("Draft a message to Carla, but don't send it.") == {"send"}
    assert {"send", "delete", "move", "set"} <= refused_actions(
        "Draft it without sending it, without deleting, without moving anything and without setting a timer")
    assert refused_actions("Never ever delete my notes; do not move report.txt") == {"delete", "move"}
    assert refused_actions("Don’t send it") == {"send"}  # a typographic apostrophe
    assert refused_actions("Send Bob the report and delete the draft") == set()


@given(st.sampled_from(["send", "delete", "move", "write"]), st.text(alphabet="abc ", max_size=20))
def test_a_refused_verb_is_found_whatever_comes_before(verb, before):
    assert verb in refused_actions(f"{before} but do not {verb} anything")


@settings(max_examples=80)
@given(st.sampled_from(["Ana", "David", "Mary-Ann", "Smith"]),
       st.sampled_from(["phone number", "email address", "birthday", "home address", "phone"]),
       st.sampled_from(["Send {p} to Bob.", "Save {p} in a note", "What is {p}?", "Look up {p} and text it to Ana"]),
       st.sampled_from(["'", "’"]))
def test_a_named_ones_detail_is_read_up_to_the_first_function_word(name, detail, frame, apostrophe):
    phrase = f"{name}{apostrophe}s {detail}"
    assert possessions(frame.format(p=phrase)) == [f"{name}'s {detail}"]


def test_a_possessive_naming_no_detail_is_no_possession():
    assert possessions("Book dinner at Luigi's on Saturday at 7pm") == []
    assert possessions("Send the report to Bob") == []
    assert possessions("it's late, text David") == []  # a contraction, not a name
    assert possessions("Send Ana's phone number and Bob's email to Carla") == ["Ana's phone number", "Bob's email"]


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(WEEKDAYS + ["tomorrow", None]), st.integers(1, 12), st.sampled_from(["am", "pm"]),
       st.sampled_from(["remind me {when}", "put lunch with Emma {when} in my calendar", "{when}, call Ana"]))
def test_the_time_a_clause_states_is_read_with_its_date(day, hour, half, frame):
    when = (f"on {day} " if day and day != "tomorrow" else f"{day} " if day else "") + f"at {hour}{half}"
    date, time = stated_time(frame.format(when=when), NOW)
    assert time == (hour % 12 + (12 if half == "pm" else 0), 0)
    assert (date is None) == (day is None)
    if day == "tomorrow":
        assert date == NOW.date() + dt.timedelta(days=1)
    elif day:
        assert date.strftime("%A") == day and date > NOW.date()


def test_no_time_is_stated_by_a_clause_with_none_several_or_an_offset():
    for clause in ("remind me on Sunday", "from 2pm to 4pm on Monday", "on Monday and Tuesday at 9am",
                   "remind me an hour before at 9am", "remind me 30 minutes before the 3pm call"):
        assert stated_time(clause, NOW) is None, clause


@settings(max_examples=80, deadline=None)
@given(st.sampled_from(WEEKDAYS), st.integers(1, 12), st.sampled_from(["am", "pm"]),
       st.sampled_from([("an hour before", -60), ("30 minutes before", -30), ("2 hours before", -120),
                        ("15 minutes after", 15)]))
def test_a_clause_with_an_offset_states_the_time_it_comes_to(day, hour, half, offset):
    phrase, minutes = offset
    request = f"Put the dentist on {day} at {hour}{half} in my calendar and remind me {phrase}"
    start = dt.datetime.combine(stated_time(clauses(request)[0], NOW)[0], dt.time(hour % 12 + (12 if half == "pm" else 0)))
    at = start + dt.timedelta(minutes=minutes)
    assert stated_time(clauses(request)[1], NOW, request) == (at.date(), (at.hour, at.minute))
    assert stated_time(clauses(request)[1], NOW) is None  # worked out from another clause: needs the request


def test_the_day_before_at_a_time_is_that_time_the_day_before():
    request = "Add Emma's birthday as an all-day event on March 22 and remind me the day before at 9am"
    assert stated_time(clauses(request)[1], NOW, request) == (dt.date(2026, 3, 21), (9, 0))
    assert stated_time("remind me the day before", NOW, "on March 22, remind me the day before") is None  # a date alone


@pytest.mark.parametrize("clause", ["send the result to Emma", "make a note saying what you found",
                                    "Tell Bob by message what is on my calendar on Monday", "save it in a note",
                                    "write the answer in a file", "forward them to Carla"])
def test_a_clause_that_hands_on_a_result(clause):
    assert hands_on(clause)


@pytest.mark.parametrize("clause", ["send Bob a message saying the report is ready", "remind me at 9am",
                                    "create a note called Results", "Make a note Parking with level 3",
                                    "the item was resultful"])
def test_a_clause_that_states_its_own_text(clause):
    assert not hands_on(clause)


_FILLER = st.lists(st.sampled_from(["send", "Emma", "a", "note", "called", "Run", "to", "my", "calendar", "with",
                                    "the", "report", "is", "ready", "at", "9am", "message", "what", "timer"]), max_size=8)


@given(_FILLER, _FILLER, st.sampled_from(["the result", "the answer", "what you found", "it", "them",
                                          "what is on", "the total"]))
def test_a_handing_phrase_anywhere_hands_on(before, after, phrase):
    assert not hands_on(" ".join(before + after))
    assert hands_on(" ".join(before + [phrase] + after))


@pytest.mark.parametrize("text, dated", [
    ("When is my book club?", False), ("Send the time to Emma", False), ("What is on my calendar on Monday", True),
    ("remind me tomorrow", True), ("at 7:30pm", True), ("on March 22", True), ("an hour before", True),
    ("since 2026-03-01", True), ("list my notes about 2026 plans", False)])
def test_a_request_states_a_date_or_not(text, dated):
    assert states_a_date(text) == dated


@given(st.sampled_from([("two hours", 120), ("an hour", 60), ("90 minutes", 90), ("half an hour", 30),
                        ("1.5 hours", 90), ("45 mins", 45)]),
       st.sampled_from(["Book dinner on Saturday at 7:30pm {} in my calendar", "a meeting {}", "{}"]))
def test_the_length_a_clause_states(length, frame):
    phrase, minutes = length
    assert stated_duration(frame.format("for " + phrase)) == minutes
    assert stated_duration(frame.format(phrase)) is None  # "for" says it is a length
    assert stated_duration(frame.format(f"for {phrase} and for {phrase}")) is None  # two: which one?
