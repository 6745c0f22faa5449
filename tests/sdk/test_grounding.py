"""Grounding: which argument values the query states, and when a further call adds one."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from edgeagent.grounding import QueryFacts, adds_to_earlier, leaf_values, name_words


def test_strings_and_numbers_the_query_states():
    q = QueryFacts("Weather in Oslo and Los Angeles, CA at an interest rate of 5% for 1,5 and 10 years; $1,000 total")
    assert q.states("Oslo") and q.states("los angeles") and q.states("Los Angeles, CA")
    assert not q.states("Paris") and not q.states("") and not q.states(True)
    assert q.states(5) and q.states(0.05) and q.states(1) and q.states(10) and q.states(1000)
    assert not q.states(15) and not q.states(0.1)


def test_a_further_call_must_bring_a_new_stated_value():
    q = QueryFacts("What is the weather in Oslo and in Lima, in celsius?")
    oslo = {"city": "Oslo", "unit": "celsius"}
    assert adds_to_earlier("get_weather", {"city": "Lima", "unit": "celsius"}, [("get_weather", oslo)], q)
    assert not adds_to_earlier("get_weather", dict(oslo), [("get_weather", oslo)], q)            # a repeat
    assert not adds_to_earlier("get_weather", {"city": "Paris", "unit": "celsius"}, [("get_weather", oslo)], q)  # invented
    pythagoras = QueryFacts("Pythagorean theorem of 3 and 4")
    assert not adds_to_earlier("math.pythagoras", {"a": 4, "b": 3}, [("math.pythagoras", {"a": 3, "b": 4})], pythagoras)  # swapped, nothing new


def test_leaf_values_walk_lists_and_objects():
    assert list(leaf_values({"a": [1, {"b": "x"}], "c": True, "d": None})) == [1, "x"]


_values = st.recursive(st.text(max_size=8) | st.integers(-10**6, 10**6) | st.floats(allow_nan=False, allow_infinity=False),
                       lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
                       max_leaves=8)


@given(st.text(max_size=60), st.dictionaries(st.text(max_size=5), _values, max_size=4))
def test_a_call_that_only_repeats_earlier_values_adds_nothing(query, arguments):
    assert not adds_to_earlier("tool", arguments, [("tool", arguments)], QueryFacts(query))


@given(st.from_regex(r"[A-Za-z]{1,12}( [A-Za-z]{1,12}){0,2}", fullmatch=True), st.text(max_size=30), st.text(max_size=30))
def test_a_phrase_in_the_query_is_stated(phrase, before, after):
    assert QueryFacts(f"{before} {phrase} {after}").states(phrase)


def test_a_word_inside_another_word_is_not_stated():
    assert not QueryFacts("the circumference of a circle with radius 3").states("m")


def test_numbers_inside_an_earlier_string_argument_are_used_up():
    q = QueryFacts("Calculate the derivative of the function 3x^2 + 2x - 1.")
    assert not adds_to_earlier("calculate_derivative", {"function": "3x^2 + 2x - 1", "x_value": 1.0},
                               [("calculate_derivative", {"function": "3x^2 + 2x - 1", "x_value": 0.0})], q)


def test_a_part_of_an_earlier_string_is_not_new():
    q = QueryFacts("What is the density of a substance with a mass of 45 kg and a volume of 15 m³?")
    earlier = [("calculate_density", {"mass": 45, "volume": 15, "unit": "kg/m³"})]
    assert not adds_to_earlier("calculate_density", {"mass": 45, "volume": 15, "unit": "m³"}, earlier, q)


def test_a_tool_the_query_names_is_new_with_the_same_values():
    q = QueryFacts("Determine the median and variance of 3,4,5. Also determine the mode for these points.")
    earlier = [("statistics.median", {"data": [3, 4, 5]}), ("statistics.variance", {"data": [3, 4, 5]})]
    assert name_words("statistics.mode") == {"statistics", "mode"}
    assert adds_to_earlier("statistics.mode", {"data": [3, 4, 5]}, earlier, q)
    assert not adds_to_earlier("statistics.range", {"data": [3, 4, 5]}, earlier, q)  # not asked for
    assert not adds_to_earlier("statistics.median", {"data": [3, 4, 5]}, earlier, q)  # asked already


def test_a_sign_is_part_of_the_number():
    q = QueryFacts("Solve 2x^2 + 3x - 4 = 0 with c = -4")
    assert q.states(-4) and not q.states(4.5)
    assert not QueryFacts("c is -4").states(4)


def test_integers_beyond_float_range_are_values_like_any_other():
    q = QueryFacts("store 12")
    assert not q.states(10**400)
    assert adds_to_earlier("t", {"n": 12}, [("t", {"n": 10**400})], q)
    assert not adds_to_earlier("t", {"n": 10**400}, [("t", {"n": 10**400})], q)
