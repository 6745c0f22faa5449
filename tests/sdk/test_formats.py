"""Values written the way a parameter's description asks: units, US places, scaled numbers."""

from __future__ import annotations

import datetime as dt
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edgeagent.datetimes import at
from edgeagent.formats import (conform_articles, conform_asked_units, conform_places, conform_scaled_numbers, conform_units, conformed,
                               dates_as_told)
from edgeagent.grounding import QueryFacts, _mentioned, invented_text
from edgeagent.places import state_code, state_name, state_of, states_implied, world_city

LC = {"properties": {
    "inductance": {"type": "number", "description": "The inductance (L) in henries (H)."},
    "capacitance": {"type": "number", "description": "The capacitance (C) in farads (F)."},
    "distance": {"type": "integer", "description": "The distance in meters"},
    "speed": {"type": "number", "description": "The speed in meters per second"},
    "temperature": {"type": "number", "description": "The temperature in degrees Celsius"},
    "count": {"type": "number", "description": "How many units"},
    "plain": {"type": "number"}}}


def test_a_quantity_in_another_unit_is_converted_to_the_described_one():
    said = "an LC circuit with capacitance of 100µF and inductance of 50mH"
    assert conform_units({"inductance": 50, "capacitance": 100}, LC, said) == {"inductance": 0.05, "capacitance": 0.0001}
    assert conform_units({"distance": 5}, LC, "a 5 km run") == {"distance": 5000}  # integral: an integer
    assert conform_units({"speed": 36}, LC, "at 36 km/h") == {"speed": 10.0}
    assert conform_units({"temperature": 300}, LC, "heated to 300 K") == {"temperature": pytest.approx(26.85)}
    # the same unit, or a value the model already converted, stays
    assert conform_units({"distance": 5}, LC, "a 5 m pole") == {"distance": 5}
    assert conform_units({"inductance": 0.05}, LC, "50mH") == {"inductance": 0.05}


def test_no_conversion_without_a_described_unit_or_with_doubt():
    assert conform_units({"plain": 50, "count": 5}, LC, "50mH and 5 units") == {"plain": 50, "count": 5}
    # another measure (a length for a speed), or the number also written bare
    assert conform_units({"speed": 5}, LC, "5 km") == {"speed": 5}
    assert conform_units({"distance": 5}, LC, "5 km in 5 steps") == {"distance": 5}
    # an integer parameter cannot take 0.05
    assert conform_units({"distance": 5}, LC, "5 cm") == {"distance": 5}
    # not a number, or a bool
    assert conform_units({"distance": "5", "speed": True}, LC, "5 km, 1 km/h") == {"distance": "5", "speed": True}


@given(st.integers(1, 10**6), st.sampled_from([("mH", 1e-3), ("µH", 1e-6), ("kH", 1e3), ("nH", 1e-9)]))
def test_a_converted_quantity_is_the_same_quantity(n, unit):
    prefix, factor = unit
    out = conform_units({"inductance": n}, LC, f"a coil of {n}{prefix}")["inductance"]
    assert math.isclose(out, n * factor, rel_tol=1e-9)


CITY = {"properties": {
    "location": {"type": "string", "description": "The city and state, e.g. Denver, CO"},
    "spelled": {"type": "string", "description": "City and state, e.g. Miami, Florida."},
    "abroad": {"type": "string", "description": "The city, e.g. London, UK"},
    "worded": {"type": "string", "description": "The location in city, state format."},
    "either": {"type": "string", "description": "Name of the city, state, or country."},
    "any": {"type": "string", "description": "A place"}}}


def test_a_us_city_is_written_with_its_state_where_the_description_asks():
    out = conform_places({"location": "Chicago", "spelled": "Chicago", "worded": "Seattle", "any": "Chicago"}, CITY)
    assert out == {"location": "Chicago, IL", "spelled": "Chicago, Illinois", "worded": "Seattle, WA", "any": "Chicago"}
    assert conform_places({"location": "New York"}, CITY) == {"location": "New York, NY"}
    # already with a state, not a US city, a non-US example, a list of choices: left
    assert conform_places({"location": "Chicago, IL"}, CITY) == {"location": "Chicago, IL"}
    assert conform_places({"location": "Atlantis"}, CITY) == {"location": "Atlantis"}
    assert conform_places({"abroad": "Chicago", "either": "Chicago"}, CITY) == {"abroad": "Chicago", "either": "Chicago"}
    assert conform_places({"location": 5}, CITY) == {"location": 5}


WEATHER_PLACE = {"type": "object", "properties": {
    "location": {"type": "string", "description": "The location, in the format of 'City, State (abbr)', such as "
                 "'San Francisco, CA' if State for the city exists. 'City, Country' if State for the city doesn't exist."},
    "city": {"type": "string", "description": "Where, e.g. Boston, MA"},
    "velocity": {"type": "string", "description": "A speed, e.g. 5, CA"}}}


def place(value, said, key="location"):
    """How conform_places writes `value` to a WEATHER_PLACE parameter for what the user `said`."""
    return conform_places({key: value}, WEATHER_PLACE, said)[key]


def test_a_city_abroad_loses_the_us_state_nobody_named():
    # the example's state copied: the country where the description asks for one, else the city alone
    assert place("Mumbai, CA", "What's the weather like in Mumbai?") == "Mumbai, India"
    assert place("Mumbai, CA", "weather in Mumbai", key="city") == "Mumbai"
    assert place("上海, CA", "上海现在的天气怎么样") == "Shanghai, China"  # and in English
    assert place("東京", "東京の天気を教えて") == "Tokyo, Japan"  # the format asked is "City, Country"
    assert place("東京", "東京の天気を教えて", key="city") == "Tokyo"
    # a qualifier in another script the user did not write: the country, or the city alone
    assert place("Beijing, 美国", "帮我查一下北京的天气") == "Beijing, China"
    assert place("Beijing, 美国", "帮我查一下北京的天气", key="city") == "Beijing"
    assert place("Beijing, 中国", "中国北京的天气") == "Beijing, 中国"
    # a city abroad written alone: with its country where the format is "City, Country"
    assert place("Madrid", "What's the weather in Madrid?") == "Madrid, Spain"
    assert place("Madrid", "What's the weather in Madrid?", key="city") == "Madrid"
    # a state the user named, a US city in its state, a country, no city parameter: as written
    assert place("London, CA", "the weather in London, California") == "London, CA"
    assert place("London, KY", "the weather in London, KY") == "London, KY"
    assert place("San Francisco, CA", "weather in SF") == "San Francisco, CA"
    assert place("Tokyo, JP", "東京の天気を教えて") == "Tokyo, JP"
    assert place("Mumbai, CA", "Mumbai", key="velocity") == "Mumbai, CA"
    assert place("Atlantis, CA", "Atlantis") == "Atlantis, CA"


def test_a_us_city_given_a_state_nobody_named_gets_its_own():
    # the description's example state copied onto another state's city
    assert place("Austin, CA", "How hot is it in Austin right now?") == "Austin, TX"
    assert place("Austin, CA", "How hot is it in Austin right now?", key="city") == "Austin, TX"
    assert place("Austin, California", "weather in Austin") == "Austin, Texas"
    # the state the user named, the city's own state, a city in no table: as written
    assert place("Austin, CA", "weather in Austin, California") == "Austin, CA"
    assert place("Boston, MA", "weather in Boston") == "Boston, MA"
    assert place("Smallville, CA", "weather in Smallville") == "Smallville, CA"


def test_the_places_tables():
    assert world_city("Mumbai") == ("Mumbai", "India") and world_city("서울") == ("Seoul", "South Korea")
    assert world_city("london") == ("London", "United Kingdom")  # the most populous of the name
    assert world_city("Atlantis") is None and world_city("Chicago") is None
    assert state_of("Denver") == "CO" and state_of("st. louis") == "MO" and state_of("Springfield") is not None
    assert state_of("London") is None and state_of("") is None
    assert state_name("CO") == "Colorado" and state_code("colorado") == "CO" and state_code("co") == "CO"
    assert state_code("Denver") is None
    assert states_implied("restaurants in Denver and Kansas City") == {"CO", "MO"}
    assert states_implied("in Denverville") == set()


def test_the_state_of_a_named_city_is_stated():
    q = QueryFacts("The violent crime rate in San Francisco in 2020")
    assert _mentioned("California", q) and _mentioned("CA", q) and not _mentioned("Texas", q)
    assert not invented_text("California", q) and invented_text("Texas", q)


def test_a_number_off_by_zeros_from_a_scaled_one_is_the_user_s():
    params = {"properties": {"payout": {"type": "integer"}, "shares": {"type": "integer"}, "rate": {"type": "number"}}}
    said = "100 million shares and a payout of 50 million USD"
    assert conform_scaled_numbers({"payout": 500000000, "shares": 100000000}, params, said) == {
        "payout": 50000000, "shares": 100000000}
    assert conform_scaled_numbers({"rate": 12000.0}, params, "revenue of $1.2M") == {"rate": 1200000.0}
    # two scaled numbers with those digits, other digits, a number the user wrote: left
    assert conform_scaled_numbers({"payout": 500000}, params, "5 million or 50 million") == {"payout": 500000}
    assert conform_scaled_numbers({"payout": 40000000}, params, said) == {"payout": 40000000}
    assert conform_scaled_numbers({"payout": 100}, params, "100 of 2 million") == {"payout": 100}
    # off by more than a thousand: no slip of a zero; nor is a loss a payout
    assert conform_scaled_numbers({"payout": 5}, params, "50 million") == {"payout": 5}
    assert conform_scaled_numbers({"payout": 20000000}, params, "a loss of -2 million") == {"payout": 20000000}


def test_conformed_applies_every_rewrite():
    params = {"properties": {**LC["properties"], **CITY["properties"],
                             "rate": {"type": "number", "description": "The interest rate"}}}
    out = conformed({"inductance": 50, "location": "Denver", "rate": 5}, params, "50mH in Denver at 5%")
    assert out == {"inductance": 0.05, "location": "Denver, CO", "rate": 0.05}


NAME = {"type": "object", "properties": {"name": {"type": "string"}, "kind": {"type": "string", "enum": ["The One"]}}}


def test_an_article_the_user_wrote_as_an_article_is_no_part_of_a_name():
    def name(value: str, text: str) -> str:
        return conform_articles({"name": value}, NAME, text)["name"]
    assert name("The theory of evolution", "Who first proposed the theory of evolution?") == "theory of evolution"
    assert name("The Metropolitan Museum of Art", "Hours of the Metropolitan Museum of Art") == \
        "Metropolitan Museum of Art"
    assert name("The Theory of Relativity", "Who found the theory of relativity?") == "Theory of Relativity"
    assert name("The Thinker", "The value of the sculpture 'The Thinker' by Rodin") == "The Thinker"
    assert name("The Weeknd", "When is The Weeknd's concert?") == "The Weeknd"
    assert name("A Tale of Two Cities", "a book nobody named") == "A Tale of Two Cities"  # not the user's words
    assert name("Theater", "the Theater") == "Theater"
    assert conform_articles({"kind": "The One"}, NAME, "the One") == {"kind": "The One"}  # an enum's own value


@given(st.sampled_from(["The", "the", "A", "An"]), st.from_regex(r"[A-Za-z]{2,9}( [A-Za-z]{2,9}){0,2}", fullmatch=True))
def test_a_name_the_user_wrote_capitalized_keeps_its_article(article, rest):
    value = f"{article.capitalize()} {rest}"
    assert conform_articles({"name": value}, NAME, f"Look up {value} please")["name"] == value
    assert conform_articles({"name": value}, NAME, f"Look up {article.lower()} {rest} please")["name"] == rest


def test_a_currency_named_in_words_goes_to_a_currency_parameter_as_its_code():
    from edgeagent.formats import conform_currencies

    params = {"properties": {
        "from_currency": {"type": "string", "description": "The currency to convert from."},
        "base": {"type": "string", "description": "The base currency."},
        "named": {"type": "string", "description": "The currency name, e.g. Euro"},
        "listed": {"type": "string", "description": "The currency", "enum": ["Euros", "Dollars"]},
        "note": {"type": "string", "description": "A note"}}}
    out = conform_currencies({"from_currency": "Euros", "base": "Canadian dollars", "named": "Euros",
                              "listed": "Euros", "note": "Euros"}, params)
    assert out == {"from_currency": "EUR", "base": "CAD", "named": "Euros", "listed": "Euros", "note": "Euros"}
    assert conform_currencies({"from_currency": "Galleons"}, params) == {"from_currency": "Galleons"}
    assert conform_currencies({"from_currency": 5}, params) == {"from_currency": 5}


def test_currency_names_and_codes():
    from edgeagent.currencies import codes_named, currency_code

    assert [currency_code(x) for x in ("US dollars", "u.s. dollar", "usd", "British Pounds", "Japanese Yen",
                                        "Swedish kronor", "dollars", "pound sterling")] == [
        "USD", "USD", "USD", "GBP", "JPY", "SEK", "USD", "GBP"]
    assert currency_code("Galleons") is None and currency_code("") is None
    # a longer name takes its words: Canadian dollars are no US dollars
    assert codes_named("How many Canadian dollars for 500 US dollars?") == {"CAD", "USD"}
    assert codes_named("How many Canadian dollars for 500 of them?") == {"CAD"}
    q = QueryFacts("The rate from British Pounds to Japanese Yen")
    assert q.states("GBP") and q.states("JPY") and not q.states("USD") and not q.states("gbp rate")


def test_the_dates_of_a_call_are_written_as_the_user_told_them():
    parameters = {"type": "object", "properties": {
        "when": {"type": "string", "description": "When, as 'YYYY-MM-DD HH:MM'."},
        "repeat": {"type": "integer"}, "note": {"type": "string"}}}
    arguments = {"when": "2023-10-01 09:00", "repeat": 2, "note": "2023-10-01", "extra": "2023-10-01"}
    with at(dt.datetime(2026, 3, 17, 14, 5)):
        out = dates_as_told(arguments, parameters, "Remind me tomorrow at 9am, twice")
    # every string value of a known parameter is read; numbers and unknown keys are left as they are
    assert out == {"when": "2026-03-18 09:00", "repeat": 2, "note": "2026-03-18", "extra": "2023-10-01"}
    assert arguments["when"] == "2023-10-01 09:00"  # a new dict
    # an optional date the description makes today by default is left to the tool
    movies = {"type": "object", "required": ["city"], "properties": {
        "city": {"type": "string"},
        "movie_date": {"type": "string",
                       "description": "The date, 'YYYY-MM-DD'. Default is the current date in India."}}}
    with at(dt.datetime(2026, 3, 17, 14, 5)):
        assert dates_as_told({"city": "Noida", "movie_date": "2023-09-15"}, movies, "movies in Noida today?") == \
            {"city": "Noida"}
        assert dates_as_told({"city": "Noida", "movie_date": "2023-09-15"}, movies, "movies in Noida tomorrow?") == \
            {"city": "Noida", "movie_date": "2026-03-18"}
        movies["required"].append("movie_date")
        assert dates_as_told({"city": "Noida", "movie_date": "2023-09-15"}, movies, "movies in Noida today?") == \
            {"city": "Noida", "movie_date": "2026-03-17"}


DAYS = {"properties": {
    "days_ahead": {"type": "integer", "description": "The number of days from now to include.", "default": 7},
    "span": {"type": "integer", "description": "How many days the forecast covers."},
    "count": {"type": "integer", "description": "How many results."}}}


def test_a_count_of_days_the_user_gave_as_a_period_is_that_period():
    from edgeagent.formats import conform_periods

    def days(value: int, text: str, key: str = "days_ahead") -> int:
        return conform_periods({key: value}, DAYS, text)[key]
    assert days(7, "Search for upcoming month rock concerts in New York.") == 30
    assert days(3, "the forecast for the next 2 weeks", "span") == 14
    assert days(1, "weather within a fortnight") == 14
    assert days(7, "Rent a car for a week") == 7
    assert days(5, "concerts in the next 5 days") == 5  # the user's own number
    assert days(2, "concerts in the next two weeks") == 14  # "two" is a count of weeks, not of days
    assert days(7, "events in the month of June") == 7  # a month named, no period
    assert days(7, "take it twice a day") == 7
    assert days(7, "next week or next month?") == 7  # two periods: which one is unknown
    assert days(7, "results for the upcoming month", "count") == 7  # not a count of days


@given(st.sampled_from(["day", "week", "fortnight", "month", "year"]), st.integers(2, 12),
       st.integers(1, 400), st.sampled_from(["next", "upcoming", "past", ""]))
def test_a_period_in_days_is_its_count_times_its_unit(unit, count, value, qualifier):
    from edgeagent.formats import conform_periods

    text = f"show me the {qualifier} {count} {unit}s please".replace("  ", " ")
    out = conform_periods({"days_ahead": value}, DAYS, text)["days_ahead"]
    per = {"day": 1, "week": 7, "fortnight": 14, "month": 30, "year": 365}[unit]
    assert out == (value if value == count else count * per)


ROUTE = {"properties": {
    "start_location": {"type": "string"}, "end_location": {"type": "string"},
    "origin": {"type": "string"}, "destination": {"type": "string"},
    "base_currency": {"type": "string"}, "target_currency": {"type": "string"}}}


def test_a_journey_starts_where_the_user_said_from():
    from edgeagent.formats import conform_directions

    said = "How much traffic should I expect from Las Vegas to Los Angeles this weekend?"
    swapped = {"start_location": "Los Angeles", "end_location": "Las Vegas"}
    assert conform_directions(swapped, ROUTE, said) == {"start_location": "Las Vegas", "end_location": "Los Angeles"}
    assert conform_directions({"origin": "Paris", "destination": "Rome"}, ROUTE, "fly from Rome to Paris") == \
        {"origin": "Rome", "destination": "Paris"}
    assert conform_directions({"base_currency": "EUR", "target_currency": "USD"}, ROUTE, "convert from USD into EUR") \
        == {"base_currency": "USD", "target_currency": "EUR"}
    right = {"origin": "Rome", "destination": "Paris"}
    assert conform_directions(right, ROUTE, "fly from Rome to Paris") == right
    assert conform_directions(right, ROUTE, "a trip between Paris and Rome") == right  # no direction said
    assert conform_directions(right, ROUTE, "from Rome to Paris and from Paris to Rome") == right  # both ways
    assert conform_directions({"origin": "Rome", "end_location": "Paris"}, ROUTE, "from Paris to Rome") == \
        {"origin": "Rome", "end_location": "Paris"}  # no pair of one name


def test_a_conversion_starts_from_the_currency_of_its_amount():
    from edgeagent.formats import conform_directions

    swapped = {"base_currency": "CAD", "target_currency": "USD", "amount": 500}
    assert conform_directions(swapped, ROUTE, "How many Canadian dollars can I get for 500 US dollars?") == \
        {"base_currency": "USD", "target_currency": "CAD", "amount": 500}
    assert conform_directions(swapped, ROUTE, "How many US dollars can I get for 500 Canadian dollars?") == swapped
    assert conform_directions(swapped, ROUTE, "Convert 500 at today's rate") == swapped  # no currency told with it
    assert conform_directions(swapped, ROUTE, "How many Canadian dollars for 300 US dollars?") == swapped  # not its amount


def test_a_name_the_user_wrote_with_a_sign_keeps_it():
    from edgeagent.formats import conform_signed_names

    key = {"properties": {"key": {"type": "string"}, "mode": {"type": "string", "enum": ["C"]}}}
    assert conform_signed_names({"key": "C"}, key, "What key signature does C# major have?") == {"key": "C#"}
    assert conform_signed_names({"key": "C"}, key, "a tutorial on C++ templates") == {"key": "C++"}
    assert conform_signed_names({"key": "C"}, key, "compare C and C#") == {"key": "C"}  # written bare too
    assert conform_signed_names({"key": "C"}, key, "F# and C#") == {"key": "C#"}
    assert conform_signed_names({"mode": "C"}, key, "in C#") == {"mode": "C"}  # an enum's own value
    assert conform_signed_names({"key": "Cb"}, key, "in C#") == {"key": "Cb"}


_SPEED = {"type": "object", "required": ["distance", "time"],
          "properties": {"distance": {"type": "number"}, "time": {"type": "number"},
                         "to_unit": {"type": "string", "description": "The unit of the speed, default is m/s."}}}


def test_a_result_gets_the_unit_its_sentence_asks_for():
    text = ("What speed does a car reach that travels 500 meters in 25 seconds? Give it in km/h. And a bicycle "
            "that travels 1000 meters in 200 seconds, in m/s?")
    assert "to_unit" not in conform_asked_units({"distance": 500, "time": 25}, _SPEED, text)  # not its sentence
    text = text.replace("seconds? Give it", "seconds, and give it")
    assert conform_asked_units({"distance": 500, "time": 25}, _SPEED, text)["to_unit"] == "km/h"
    assert conform_asked_units({"distance": 1000, "time": 200}, _SPEED, text)["to_unit"] == "m/s"
    # another unit the model wrote is replaced; the one asked, or a value naming no unit, stays
    one = "A car travels 500 meters in 25 seconds: its speed in miles per hour?"
    assert conform_asked_units({"distance": 500, "time": 25, "to_unit": "m/s"}, _SPEED, one)["to_unit"] == \
        "miles per hour"
    assert conform_asked_units({"distance": 500, "time": 25, "to_unit": "mph"}, _SPEED, one)["to_unit"] == "mph"
    assert conform_asked_units({"distance": 500, "time": 25, "to_unit": "fast"}, _SPEED, one)["to_unit"] == "fast"


def test_a_unit_the_user_wrote_or_of_another_measure_stays():
    params = {"type": "object", "properties": {"particle": {"type": "string"}, "unit": {"type": "string"}}}
    text = "What is the weight of a Proton in atomic mass unit (amu)? And the diameter of a Proton in femtometers?"
    assert conform_asked_units({"particle": "Proton", "unit": "amu"}, params, text)["unit"] == "amu"
    assert conform_asked_units({"particle": "Proton", "unit": "kg"}, params, text)["unit"] == "kg"  # a mass
    assert conform_asked_units({"particle": "Proton", "unit": "cm"}, params, text)["unit"] == "femtometers"


def test_no_unit_is_written_where_none_or_several_are_asked():
    for text in ("A car travels 500 meters in 25 seconds. How fast is it?",          # a number's own unit
                 "A car travels 500 meters in a day. How fast?",                        # not a unit: "in a"
                 "500 meters in 25 seconds: the speed in km/h and in m/s?",             # two units
                 "500 meters in 25 seconds: how much is it in US dollars?"):            # "US" is no unit here
        assert "to_unit" not in conform_asked_units({"distance": 500, "time": 25}, _SPEED, text), text
    # a parameter for the unit a value is given in is no result's unit
    given_in = {"type": "object", "properties": {"value": {"type": "number"}, "from_unit": {"type": "string"}}}
    assert conform_asked_units({"value": 5}, given_in, "Convert 5 inches in centimeters") == {"value": 5}


def test_an_enum_of_units_gets_its_own_spelling():
    params = {"type": "object", "properties": {"city": {"type": "string"},
                                               "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}}
    assert conform_asked_units({"city": "Oslo"}, params, "Weather in Oslo in Fahrenheit")["unit"] == "fahrenheit"
    assert conform_asked_units({"city": "Oslo"}, params, "Weather in Oslo in kelvin") == {"city": "Oslo"}


@given(st.sampled_from(["km/h", "meters", "miles", "feet", "Celsius", "kilograms", "seconds"]),
       st.sampled_from(["What is {n} times two, in {u}?", "Compute it for {n}. I want the output in {u}.",
                        "For the value {n}, give the result in {u}, please"]))
def test_the_unit_asked_is_written_as_the_user_wrote_it(unit, template):
    params = {"type": "object", "properties": {"n": {"type": "number"}, "units": {"type": "string"}}}
    assert conform_asked_units({"n": 7}, params, template.format(n=7, u=unit)) == {"n": 7, "units": unit}
