"""Grounding: which argument values the query states, and when a further call adds one."""

from __future__ import annotations

from hypothesis import assume, given
from hypothesis import strategies as st

from edgeagent.grounding import (_FUNCTION_WORDS, _GENERIC, _LIST_WORDS, QueryFacts, adds_to_earlier,
                                  call_parts, conversation_facts, crossed, doubled_value, flag_asked, flags_as_asked,
                                  grounded_arguments, invented_text,
                                  is_english, leaf_values, leaves_unused, measures_another, misplaced_number,
                                  name_words, word_in)
from edgeagent.tool import Tool


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


def test_a_word_is_found_in_its_plural_or_singular():
    # "What's the probability of drawing a king" names the subject of `calculate_probabilities`
    for one, many in [("probability", "probabilities"), ("city", "cities"), ("box", "boxes"), ("match", "matches"),
                      ("note", "notes"), ("day", "days"), ("bus", "buses")]:
        assert word_in(one, {many}) and word_in(many, {one}), (one, many)
    # no plural of another word: "notes" is no plural of "not", "days" of "dais"
    assert not word_in("notes", {"not"}) and not word_in("day", {"dais"})


@given(st.from_regex(r"[a-z]{3,10}", fullmatch=True))
def test_a_word_and_its_regular_plural_find_each_other(word):
    plural = word + "es" if word.endswith(("s", "x", "z", "ch", "sh")) else (
        word[:-1] + "ies" if word.endswith("y") and word[-2] not in "aeiou" else word + "s")
    assert word_in(word, {plural}) and word_in(plural, {word})


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


def test_a_tool_word_the_earlier_call_accounts_for_names_no_new_tool():
    q = QueryFacts("Displacement of a car at an initial speed of 20 m/s accelerating at 10 m/s^2 for 5 seconds?")
    first = ("kinematics.calculate_displacement", {"initial_speed": 20, "acceleration": 10, "time": 5})
    # "speed" is in the query only as the first call's initial_speed
    assert not adds_to_earlier("kinematics.calculate_final_speed", dict(first[1]), [first], q)
    battle = QueryFacts("Who fought in the Battle of Stalingrad?")
    war = ("history.war_details", {"war": "Battle of Stalingrad"})
    assert not adds_to_earlier("history.battle_details", {"battle": "Battle of Stalingrad"}, [war], battle)


def _tool(name, description="", **types):
    return Tool(name, description, {"type": "object", "properties": {k: {"type": v} for k, v in types.items()}})


def test_a_query_its_calls_use_up_asks_for_no_call_more():
    area = _tool("calculate_triangle_area", "Calculate the area of a triangle.", base="number", height="number")
    q = QueryFacts("Find the area of a triangle with a base of 10 units and height of 5 units.")
    assert not leaves_unused(q, [(area.name, {"base": 10, "height": 5})], {area.name: area})
    assert leaves_unused(q, [(area.name, {"base": 10, "height": 4})], {area.name: area})  # the 5 is left
    weather = _tool("get_weather", "The weather in a city.", city="string")
    q = QueryFacts("What is the weather in Oslo and in Lima?")
    assert leaves_unused(q, [("get_weather", {"city": "Oslo"})], {"get_weather": weather})
    assert not leaves_unused(q, [("get_weather", {"city": "Oslo"}), ("get_weather", {"city": "Lima"})],
                             {"get_weather": weather})
    # a word left over matters only if a tool can take it as text or is named by it
    q = QueryFacts("Solve the quadratic equation where a=2, b=6 and c=5 for a student")
    solve = _tool("solve_quadratic", "Roots of a quadratic equation.", a="integer", b="integer", c="integer")
    assert not leaves_unused(q, [(solve.name, {"a": 2, "b": 6, "c": 5})], {solve.name: solve})
    student = _tool("student_grade", "A grade.", score="integer")
    assert leaves_unused(q, [(solve.name, {"a": 2, "b": 6, "c": 5})], {solve.name: solve, student.name: student})
    # capitals count however short; lowercase short words (units, "what's") do not
    to = _tool("convert_currency", "Convert money.", amount="number", to="string")
    q = QueryFacts("What's 100 USD in EUR and in GB pounds?")
    assert leaves_unused(q, [(to.name, {"amount": 100, "to": "EUR"}), (to.name, {"amount": 100, "to": "pounds"})],
                         {to.name: to})
    assert not leaves_unused(QueryFacts("What's 100 m/s in km/h?"), [(to.name, {"amount": 100, "to": "km/h"})],
                             {to.name: to})


def test_a_word_left_over_asks_for_a_call_more_only_where_it_reads_as_a_value():
    speed = _tool("calculate_speed", "Speed from distance and time.", distance="number", time="number", unit="string")
    served = [(speed.name, {"distance": 100, "time": 2})]
    # "car" and "travels" tell what was asked; the one call served it
    assert not leaves_unused(QueryFacts("How fast is a car that travels 100 km in 2 hours?"), served, {speed.name: speed})
    track = _tool("religion_history.track", "", region="string", religion="string")
    egypt = [(track.name, {"region": "Egypt", "religion": "Christianity"})]
    assert leaves_unused(QueryFacts("The rise of Christianity in Egypt and Turkey"), egypt, {track.name: track})  # a name
    weather = _tool("get_weather", "The weather in a city.", city="string")
    miami = [(weather.name, {"city": "Miami"})]
    assert not leaves_unused(QueryFacts("The humidity in Miami, Florida this week"), miami, {weather.name: weather})
    berlin = [(weather.name, {"city": "Berlin"})]
    assert leaves_unused(QueryFacts("The weather in Berlin, Madrid and Rome"), berlin, {weather.name: weather})  # a list
    recipe = _tool("find_recipe", "", diet="string")
    vegan = [(recipe.name, {"diet": "vegan"})]
    assert leaves_unused(QueryFacts("Find vegan and vegetarian recipes"), vegan, {recipe.name: recipe})  # joined
    assert not leaves_unused(QueryFacts("Find vegan recipes for a picnic"), vegan, {recipe.name: recipe})
    cell = _tool("get_cell_info", "", cell_type="string")
    neuron = [(cell.name, {"cell_type": "neuron"})]
    assert leaves_unused(QueryFacts("Describe a neuron cell, then compare it with a muscle cell"), neuron,
                         {cell.name: cell})  # the same frame: "... cell"
    # words that order a list of requests, and month names, are no values
    assert not leaves_unused(QueryFacts("The weather in Berlin for the next week, in early March"),
                             [(weather.name, {"city": "Berlin"})], {weather.name: weather})


def test_numbers_left_over_are_read_as_written():
    rate = _tool("compound_interest", "", principal="number", rate="number", years="integer")
    q = QueryFacts("Compound interest on $1000 at 5% for 10 years")
    assert not leaves_unused(q, [(rate.name, {"principal": 1000, "rate": 0.05, "years": 10})], {rate.name: rate})
    assert not adds_to_earlier(rate.name, {"principal": 1000, "rate": 5, "years": 10},
                               [(rate.name, {"principal": 1000, "rate": 0.05, "years": 10})], q)  # 5 is that 5%
    assert leaves_unused(q, [(rate.name, {"principal": 1000, "rate": 0.05, "years": 1})], {rate.name: rate})
    volume = _tool("heat_capacity", "", temperature="number", volume="number")
    q = QueryFacts("Heat capacity of air at 298K in a volume of 10 m^3")
    assert not leaves_unused(q, [(volume.name, {"temperature": 298, "volume": 10})], {volume.name: volume})  # exponent


def test_the_names_of_a_used_currency_are_accounted_for():
    rate = _tool("get_exchange_rate", "", base_currency="string", target_currency="string")
    q = QueryFacts("Get me the latest exchange rate from British Pounds to Japanese Yen.")
    assert not leaves_unused(q, [(rate.name, {"base_currency": "GBP", "target_currency": "JPY"})], {rate.name: rate})
    assert leaves_unused(q, [(rate.name, {"base_currency": "GBP", "target_currency": "USD"})], {rate.name: rate})


def test_a_tool_is_asked_for_the_pair_of_a_value_it_took():
    life = _tool("us_history.life_expectancy", "Life expectancy in a year.", year="integer")
    gdp = _tool("us_history.gdp", "GDP in a year.", year="integer")
    tools = {life.name: life, gdp.name: gdp}
    q = QueryFacts("What was the life expectancy in the USA in 1900 and 1950? And the GDP in these years?")
    three = [(life.name, {"year": 1900}), (life.name, {"year": 1950}), (gdp.name, {"year": 1900})]
    assert leaves_unused(q, three, tools)
    assert adds_to_earlier(gdp.name, {"year": 1950}, three, q)
    assert not adds_to_earlier(gdp.name, {"year": 1900}, three, q)  # a repeat
    assert not leaves_unused(q, three + [(gdp.name, {"year": 1950})], tools)
    # a value the query also writes apart is no pair: Lyon was asked only of the distance
    distance = _tool("distance", "Distance between two cities.", a="string", b="string")
    weather = _tool("get_weather", "The weather in a city.", city="string")
    q = QueryFacts("The distance between Paris and Lyon, and the weather in Paris")
    calls = [(distance.name, {"a": "Paris", "b": "Lyon"}), (weather.name, {"city": "Paris"})]
    assert not leaves_unused(q, calls, {distance.name: distance, weather.name: weather})
    assert not adds_to_earlier(weather.name, {"city": "Lyon"}, calls, q)
    # nor one of another kind next to it in a list of requests
    forecast = _tool("air_quality_forecast", "Air quality forecast.", location="string", days="integer")
    q = QueryFacts("A 5-day air quality forecast for New York, a 7-day weather forecast for Los Angeles")
    calls = [(forecast.name, {"location": "New York", "days": 5}), (weather.name, {"city": "Los Angeles", "days": 7})]
    assert not adds_to_earlier(forecast.name, {"location": "Los Angeles", "days": 7}, calls, q)


def test_function_words_make_no_string_value_new():
    event = _tool("get_event_date", "Date of a historical event.", event="string")
    q = QueryFacts("When was the Battle of Waterloo?")
    assert not adds_to_earlier(event.name, {"event": "The Battle of Waterloo"},
                               [(event.name, {"event": "Battle of Waterloo"})], q)  # "the" is no new word


_content_word = st.from_regex(r"[a-z]{3,9}", fullmatch=True).filter(
    lambda w: w not in _FUNCTION_WORDS and w not in _GENERIC and not w.endswith("s"))


@given(st.lists(_content_word, min_size=1, max_size=6, unique=True), st.lists(st.integers(2, 999), max_size=3),
       st.data())
def test_no_call_that_would_be_kept_is_left_unasked(words, numbers, data):
    """Whatever the earlier calls took from a query that lists values, a further call that
    adds_to_earlier would keep means leaves_unused says a call more is worth asking for."""
    lookup = _tool("lookup", "", text="string", n="integer")
    query = " and ".join(words + [str(n) for n in numbers])
    values = st.fixed_dictionaries({"text": st.sampled_from(words)},
                                   optional={"n": st.sampled_from(numbers)} if numbers else {})
    earlier = [("lookup", a) for a in data.draw(st.lists(values, min_size=1, max_size=3))]  # as Agent asks
    candidate = data.draw(values)
    facts = QueryFacts(query)
    if adds_to_earlier("lookup", candidate, earlier, facts):
        assert leaves_unused(facts, earlier, {"lookup": lookup})


@given(st.lists(_content_word, min_size=3, max_size=3, unique=True),
       st.sampled_from(["and", "or", ", and", ", or", "&"]), st.sampled_from(["then", "with", "in", "and the"]))
def test_values_joined_by_and_or_a_comma_are_a_pair(words, joiner, apart):
    a, b, c = words
    assume(not {a, b, c} & {"find", "today", "alone"})
    joined = QueryFacts(f"Find the {a} {joiner} {b} today")
    assert joined.paired(a, b) and joined.paired(b, a)
    assert not QueryFacts(f"Find the {a} {apart} {b} today").paired(a, b)
    assert not QueryFacts(f"Find the {a} {joiner} {b}, then the {a} alone").paired(a, b)  # also written apart
    # A comma alone lists values only where a joiner follows: "Manhattan, New York" is one place.
    listed = QueryFacts(f"Find the {a}, {b} {joiner} {c} today")
    assert listed.paired(a, b) and listed.paired(b, c)
    assert not QueryFacts(f"Find the {a}, {b} today").paired(a, b)


@given(st.lists(_content_word, min_size=2, max_size=3, unique=True), st.lists(st.integers(1990, 2030), min_size=2,
       max_size=3, unique=True), st.data())
def test_values_listed_apart_are_crossed_into_every_combination(teams, years, data):
    """Two lists in the query ("the Lakers and the Bulls in 2018 and 2020") ask for every
    combination: whatever part of the grid the calls made, crossed adds the rest, once."""
    assume(not set(teams) & {"find", "seasons", "respectively"})
    query = f"Find the {' and '.join(teams)} in seasons {' and '.join(map(str, years))}"
    facts = QueryFacts(query)
    grid = [{"team": t, "season": y, "league": "NBA"} for t in teams for y in years]
    made = data.draw(st.lists(st.sampled_from(grid), min_size=2, max_size=len(grid), unique_by=lambda a: str(a)))
    # as the model pairs the lists off: every value in some call
    assume({a["team"] for a in made} == set(teams) and {a["season"] for a in made} == set(years))
    added = crossed(facts, [("win_pct", a) for a in made])
    assert sorted(map(str, made + [a for _, a in added])) == sorted(map(str, grid))
    assert all(name == "win_pct" for name, _ in added)
    # Paired off by the user, or written apart: nothing is crossed.
    assert crossed(QueryFacts(query + ", respectively"), [("win_pct", a) for a in made]) == []
    apart = QueryFacts(" and ".join(f"the {t} in {y}" for t, y in zip(teams, years)))
    assert crossed(apart, [("win_pct", a) for a in made]) == []


def test_only_calls_of_one_tool_that_differ_in_listed_values_are_crossed():
    facts = QueryFacts("Stock prices of Microsoft and Apple on 2022-01-01 and 2022-02-01")
    zipped = [("price", {"company": "Microsoft", "date": "2022-01-01"}),
              ("price", {"company": "Apple", "date": "2022-02-01"})]
    assert crossed(facts, zipped) == [("price", {"company": "Microsoft", "date": "2022-02-01"}),
                                       ("price", {"company": "Apple", "date": "2022-01-01"})]
    assert crossed(facts, zipped[:1] + [("volume", zipped[1][1])]) == []  # two tools
    assert crossed(facts, [zipped[0], ("price", {"company": "Apple", "date": "2022-01-01"})]) == []  # one list
    assert crossed(facts, [zipped[0], ("price", {**zipped[1][1], "exchange": "NASDAQ"})]) == []  # other keys


def test_a_word_written_in_several_cases_is_several_values():
    """"AA", "Aa" and "aa" are three genotypes, one word to the lowercase reading."""
    facts = QueryFacts("Frequency of the genotypes AA, Aa and aa for an allele frequency of 0.7")
    assert facts.case_distinct == {"AA", "Aa", "aa"}
    genotype = _tool("genotype_frequency", "", allele_frequency="number", genotype="string")
    earlier = [("genotype_frequency", {"allele_frequency": 0.7, "genotype": "AA"})]
    assert leaves_unused(facts, earlier, {"genotype_frequency": genotype})
    assert adds_to_earlier("genotype_frequency", {"allele_frequency": 0.7, "genotype": "Aa"}, earlier, facts)
    assert not adds_to_earlier("genotype_frequency", {"allele_frequency": 0.7, "genotype": "AA"}, earlier, facts)
    done = earlier + [("genotype_frequency", {"allele_frequency": 0.7, "genotype": g}) for g in ("Aa", "aa")]
    assert not leaves_unused(facts, done, {"genotype_frequency": genotype})
    # A capital at the start of a sentence, or a function word in capitals, is no other value.
    assert QueryFacts("Apple pie. I like apple pie and US news; tell us.").case_distinct == set()


def test_a_place_after_a_comma_qualifies_the_one_before():
    hotel = _tool("hotel_booking", "Book a hotel room.", location="string", nights="integer")
    q = QueryFacts("Book a room near Manhattan, New York for 3 nights.")
    earlier = [(hotel.name, {"location": "Manhattan", "nights": 3})]
    assert not q.paired("Manhattan", "New York")
    assert not leaves_unused(q, earlier, {hotel.name: hotel})  # no second booking for "New York"
    assert leaves_unused(QueryFacts("Book a room in Manhattan, New York and Boston for 3 nights."), earlier,
                         {hotel.name: hotel})


@given(st.lists(_content_word, min_size=2, max_size=2, unique=True))
def test_a_word_reads_as_a_value_when_written_as_a_name_or_joined_to_a_used_one(pair):
    a, b = pair
    assume(not {a, b} & {"find", "today"} and not {a, b} & _LIST_WORDS)
    assert not QueryFacts(f"Find {a} for the {b} today").reads_as_value(b, {a})
    assert QueryFacts(f"Find {a} for the {b.capitalize()} today").reads_as_value(b, {a})
    assert QueryFacts(f"Find {a} and {b} today").reads_as_value(b, {a})
    assert QueryFacts(f"Find {a} or the {b} today").reads_as_value(b, {a})
    assert not QueryFacts(f"Find {a} and {b} today").reads_as_value(b, set())


PARAMS = {"type": "object", "required": ["location"], "properties": {
    "location": {"type": "string"}, "cuisine": {"type": "array", "items": {"type": "string"}},
    "frequency": {"type": "string"}, "rounding": {"type": "integer", "default": 2},
    "open_now": {"type": "boolean"}, "group_size": {"type": "integer"}, "notes": {"type": "string"}}}


def test_optional_arguments_the_query_does_not_mention_are_left_out():
    q = QueryFacts("A seafood restaurant in Seattle for two people, open now")
    args = {"location": "Paris", "cuisine": ["Seafood", "Italian", "Chinese"], "frequency": "quarterly",
            "rounding": 2, "open_now": True, "group_size": 2, "notes": "window seat"}
    assert grounded_arguments(args, PARAMS, q) == {
        "location": "Paris",         # required: kept whatever it is
        "cuisine": ["Seafood"],      # entries the query does not mention dropped
        "rounding": 2,               # the schema's default
        "open_now": True,            # booleans are not words: kept
        "group_size": 2}             # "two"


def test_an_iso_date_is_kept_only_where_the_query_tells_a_date_or_time():
    params = {"type": "object", "required": ["city"], "properties": {
        "city": {"type": "string"}, "movie_date": {"type": "string", "description": "YYYY-MM-DD"}}}
    args = {"city": "Bangalore", "movie_date": "2023-09-15"}
    def grounded(*messages):
        return grounded_arguments(args, params, conversation_facts([{"role": "user", "content": m} for m in messages]))
    for said in ("What movies are playing in Bangalore?", "Two tickets for a movie in Bangalore"):
        assert grounded(said) == {"city": "Bangalore"}, said  # the date is invented
    for said in ("Movies in Bangalore tomorrow?", "Movies in Bangalore next Friday", "Movies in Bangalore on Sept 15",
                 "Movies in Bangalore on the 15th", "Movies in Bangalore on 2023-09-15", "Movies in Bangalore at 7pm",
                 "Movies in Bangalore on 9/15", "Movies in Bangalore in 2024", "班加罗尔今天有什么电影?"):
        assert grounded(said) == args, said  # told in some way: the model's reading of it is kept


def test_values_in_scripts_written_without_spaces_are_found_in_the_text():
    chinese = QueryFacts("我想知道北京的天气")  # one run of letters: no word boundary to match on
    assert chinese.states("北京") and chinese.states("北京的天气") and not chinese.states("上海")
    assert not invented_text("知道北京的天", chinese) and invented_text("上海市政府大楼", chinese)
    korean = QueryFacts("에어컨을 공기청정 모드로 실행해줘")  # the particle 을 is joined to 에어컨
    assert korean.states("에어컨") and korean.states("공기청정") and not korean.states("냉장고")
    english = QueryFacts("the weather in Oslo")
    assert not english.states("北京") and not english.states("the weath")  # Latin words stay whole


def test_outside_english_a_value_in_latin_letters_may_be_a_translation():
    params = {"type": "object", "required": ["city"], "properties": {
        "city": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}}
    shanghai = QueryFacts("上海现在的天气怎么样？请用摄氏度。")
    assert not shanghai.english and not invented_text("Shanghai", shanghai)
    assert grounded_arguments({"city": "上海", "unit": "celsius"}, params, shanghai) == {"city": "上海", "unit": "celsius"}
    english = QueryFacts("What is the weather like in Shanghai right now?")
    assert english.english and invented_text("Beijing", english)
    assert grounded_arguments({"city": "Shanghai", "unit": "celsius"}, params, english) == {"city": "Shanghai"}


@given(st.lists(_content_word, min_size=1, max_size=12), st.lists(st.sampled_from(sorted(_FUNCTION_WORDS)), max_size=4),
       st.randoms())
def test_a_text_is_english_when_a_tenth_of_its_words_are_english_function_words(content, function, rnd):
    words = content + function
    rnd.shuffle(words)
    assert is_english(" ".join(words)) == (len(function) >= 0.1 * len(words))


def test_an_object_argument_is_grounded_by_its_own_schema():
    params = {"type": "object", "required": ["body"], "properties": {"body": {"type": "object", "required": ["mode"],
              "properties": {"mode": {"type": "string", "enum": ["AIR_CLEAN", "COOL"]},
                             "target": {"type": "integer"}, "fan": {"type": "string"}}},
              "extra": {"type": "object", "properties": {"note": {"type": "string"}}}}}
    q = QueryFacts("Run the air conditioner in cool mode with the fan on high")
    args = {"body": {"mode": "COOL", "target": 22, "fan": "high"}, "extra": {"note": "weekly"}}
    # the invented target goes, the mentioned fan stays; an optional object nothing of which is said goes
    assert grounded_arguments(args, params, q) == {"body": {"mode": "COOL", "fan": "high"}}
    said = {"body": {"mode": "COOL", "target": 22}, "extra": {"note": "high fan"}}
    assert grounded_arguments(said, params, q) == {"body": {"mode": "COOL"}, "extra": {"note": "high fan"}}


def test_a_list_of_names_holds_no_number_another_argument_takes():
    params = {"type": "object", "required": ["ingredients", "servings"], "properties": {
        "ingredients": {"type": "array", "items": {"type": "string"}}, "servings": {"type": "integer"},
        "sizes": {"type": "array", "items": {"type": "string"}}}}
    q = QueryFacts("Give me a recipe for a vegetarian pasta with cheese for 2 servings, in sizes 2 and 4.")
    assert grounded_arguments({"ingredients": ["Pasta", "Cheese", "2"], "servings": 2}, params, q) == \
        {"ingredients": ["Pasta", "Cheese"], "servings": 2}
    # a list of numbers is no list of names; nor is a number nobody else takes a count
    assert grounded_arguments({"ingredients": ["pasta"], "servings": 2, "sizes": ["2", "4"]}, params, q) == \
        {"ingredients": ["pasta"], "servings": 2, "sizes": ["2", "4"]}
    assert grounded_arguments({"ingredients": ["pasta", "4"], "servings": 2}, params, q) == \
        {"ingredients": ["pasta", "4"], "servings": 2}


def test_the_ly_form_of_a_query_word_is_mentioned():
    q = QueryFacts("Repeat it every week, and each day at noon")
    args = {"location": "x", "frequency": "weekly", "notes": "daily"}
    assert grounded_arguments(args, PARAMS, q) == args
    # the -ly form of a word the query does not write is not mentioned
    assert "frequency" not in grounded_arguments({"location": "x", "frequency": "monthly"}, PARAMS, q)


def test_a_list_none_of_whose_entries_is_mentioned_stays_whole_when_required():
    params = {"type": "object", "required": ["tags"], "properties": {"tags": {"type": "array"}}}
    assert grounded_arguments({"tags": ["a1", "b2"]}, params, QueryFacts("tag it")) == {"tags": ["a1", "b2"]}
    # a looser match than states: a shared word, "child" in "children"
    assert grounded_arguments({"tags": ["child", "adult", "Senior Citizen"]}, params,
                              QueryFacts("tickets for two children and an adult")) == {"tags": ["child", "adult"]}


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                     lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
                     max_leaves=8)


@given(st.text(max_size=60), st.dictionaries(st.text(max_size=6), _json, max_size=5), st.data())
def test_grounding_only_removes(query, arguments, data):
    required = data.draw(st.lists(st.sampled_from(sorted(arguments)), unique=True) if arguments else st.just([]))
    out = grounded_arguments(arguments, {"type": "object", "required": required, "properties": {}}, QueryFacts(query))
    assert set(required) <= set(out) <= set(arguments)
    for key, value in out.items():
        original = arguments[key]
        if isinstance(original, list) and value != original:
            assert isinstance(value, list) and value and all(x in original for x in value)
        else:
            assert value == original


def test_a_digit_float_cannot_read_is_no_number():
    # "¹" is a digit to str.isdigit, not a number: grounding read it with float() and raised
    assert grounded_arguments({"A": "A:¹"}, {"type": "object", "properties": {}}, QueryFacts("")) in ({}, {"A": "A:¹"})
    assert grounded_arguments({"mission": "Mission ²"}, {"type": "object", "properties": {}},
                              QueryFacts("Rewards for Fortnite missions")) in ({}, {"mission": "Mission ²"})


def test_a_string_made_of_words_earlier_calls_account_for_is_not_new():
    q = QueryFacts("How much is a painting in oil on canvas, 2 feet wide?")
    earlier = [("painting_price.estimate", {"medium": "oil", "width_ft": 2})]
    # "oil" is the earlier value, "painting" the earlier tool's name
    assert not adds_to_earlier("painting_availability.check", {"title": "Oil Painting"}, earlier, q)
    assert adds_to_earlier("painting_availability.check", {"title": "Oil on canvas"}, earlier, q)  # "canvas" is new
    mars = QueryFacts("My weight on Earth is 80 kg: what is it on Mars?")
    on_mars = [("weight_in_space", {"weight_earth_kg": 80, "planet": "Mars"})]
    assert not adds_to_earlier("weight_in_space", {"weight_earth_kg": 80, "planet": "Earth"}, on_mars, mars)  # a parameter's name said it
    both = QueryFacts("My weight on Earth is 80 kg: what is it on Mars and on Venus?")
    assert adds_to_earlier("weight_in_space", {"weight_earth_kg": 80, "planet": "Venus"}, on_mars, both)


def test_numbers_in_exponent_and_scaled_forms():
    q = QueryFacts("charges of 1e-9 and 2E-9; revenues of $1M in 2019 and $1.2M; 2 million people; a 5m pole")
    assert q.states(1e-9) and q.states(2e-9) and q.states(1_000_000) and q.states(1_200_000) and q.states(2_000_000)
    assert q.states(5) and not q.states(5_000_000)  # "5m" is five metres


def test_an_invented_number_is_one_nothing_comes_close_to_writing():
    from edgeagent.grounding import invented_number
    q = QueryFacts("A loss of $1000 on 5x^2 - 7x + 3, starting from rest next month")
    assert not any(invented_number(v, q) for v in (-1000, 1000, -7, 5, 3, 0, 1, -1, 0.5))
    assert invented_number(45, q) and invented_number(9.8, q) and invented_number(-45, q)
    assert not invented_number(True, q) and not invented_number("45", q)


def test_a_number_written_in_words_is_no_invention():
    from edgeagent.grounding import invented_number
    q = QueryFacts("Set a timer for fifteen minutes, then add twenty and thirty-five to three hundred and forty two")
    assert not any(invented_number(v, q) for v in (15, 20, 35, 342))
    assert invented_number(16, q) and invented_number(45, q)
    assert q.numbers == set()  # nor a value left for a call more (leaves_unused reads `numbers`)
    # outside English, words cannot tell ("quince" is not read as English)
    assert 15.0 not in QueryFacts("Pon un temporizador de quince minutos").number_words


def test_a_unit_of_a_used_number_names_no_tool():
    q = QueryFacts("Calculate the strength of the magnetic field given distance is 8 meters and current is 12 Amperes")
    earlier = [("electromagnetism.biot_savart_law", {"current": 12, "distance": 8})]
    assert not adds_to_earlier("electromagnetism.ampere_law", {"enclosed_current": 12, "radius": 8}, earlier, q)
    named = QueryFacts("Field of 12 Amperes at 8 meters, then the same by Ampere's law")
    assert adds_to_earlier("electromagnetism.ampere_law", {"enclosed_current": 12, "radius": 8}, earlier, named)
    assert q.only_as_unit_of("amperes", {12.0}) and not q.only_as_unit_of("amperes", {8.0})
    assert not q.only_as_unit_of("current", {12.0})


def test_an_iso_date_is_written_in_the_format_the_description_names():
    from edgeagent.formats import conform_dates

    params = {"type": "object", "properties": {
        "date": {"type": "string", "description": "The date, in the format mm-dd-yyyy."},
        "day": {"type": "string", "description": "Day as DD/MM/YYYY"},
        "iso": {"type": "string", "description": "Date (yyyy-mm-dd)"},
        "when": {"type": "string", "description": "When it happens"}}}
    out = conform_dates({"date": "2023-06-01", "day": "2023-06-01", "iso": "2023-06-01", "when": "2023-06-01"}, params)
    assert out == {"date": "06-01-2023", "day": "01/06/2023", "iso": "2023-06-01", "when": "2023-06-01"}
    # only whole, real ISO dates are rewritten
    assert conform_dates({"date": "June 1st"}, params) == {"date": "June 1st"}
    assert conform_dates({"date": "2023-02-30"}, params) == {"date": "2023-02-30"}
    assert conform_dates({"date": "2023-06-01T10:00"}, params) == {"date": "2023-06-01T10:00"}
    # the format in words, and a year-first date as a user writes it
    worded = {"properties": {"date": {"type": "string", "description": "The date (month-day-year) of it."}}}
    assert conform_dates({"date": "2022/8/16"}, worded) == {"date": "08-16-2022"}
    assert conform_dates({"date": "2022/8/16"}, params) == {"date": "08-16-2022"}
    assert conform_dates({"date": "2022/8-16"}, params) == {"date": "2022/8-16"}  # two separators: no date


@given(st.dates(), st.sampled_from(["mm-dd-yyyy", "dd/mm/yyyy", "yyyy.mm.dd", "MM-DD-YYYY", "dd.mm.yyyy"]))
def test_a_conformed_date_reads_back_as_the_same_day(day, fmt):
    import datetime as dt

    from edgeagent.formats import conform_dates

    params = {"properties": {"d": {"type": "string", "description": f"in the format {fmt}"}}}
    out = conform_dates({"d": day.isoformat()}, params)["d"]
    py = fmt.lower().replace("yyyy", "%Y").replace("mm", "%m").replace("dd", "%d")
    assert dt.datetime.strptime(out, py).date() == day


def test_list_entries_in_short_capitals_clipped_words_and_numbers_with_units_are_mentioned():
    params = {"type": "object", "required": ["cards"], "properties": {"cards": {"type": "array"}}}
    cards = QueryFacts("The player has A and 10, the dealer J♥, Q♥ and 9")
    assert grounded_arguments({"cards": ["A", "10", "J♥", "Q♥", "K♥"]}, params, cards) == {
        "cards": ["A", "10", "J♥", "Q♥"]}  # K is not in the query
    # a lowercase "a" is the article, not the card
    assert grounded_arguments({"cards": ["A", "10"]}, params, QueryFacts("a 10 of hearts")) == {"cards": ["10"]}
    food = QueryFacts("the protein, calories and carbs of an avocado")
    assert grounded_arguments({"cards": ["Protein", "Carbohydrates", "Calcium"]}, params, food) == {
        "cards": ["Protein", "Carbohydrates"]}
    # a clipped form needs four letters: "cat" clips nothing
    assert grounded_arguments({"cards": ["Protein", "Category"]}, params, QueryFacts("protein for the cat")) == {
        "cards": ["Protein"]}
    assert grounded_arguments({"city": "x", "format": "24h"}, PARAMS | {"required": ["city"], "properties": {
        "city": {"type": "string"}, "format": {"type": "string"}}}, QueryFacts("London time, in 24 hour format")) == {
        "city": "x", "format": "24h"}


def test_a_percentage_goes_to_a_number_parameter_as_a_fraction():
    from edgeagent.formats import conform_percentages

    params = {"properties": {
        "annual_return": {"type": "number", "description": "The annual return rate of the investment."},
        "amount": {"type": "number"},
        "growth": {"type": "number", "description": "The growth, as a decimal. E.g. 5% = 0.05"},
        "pct": {"type": "number", "description": "The rate as a percentage."},
        "lightness": {"type": "integer", "description": "The lightness"},
        "years": {"type": ["number", "null"]}}}
    said = "I invest $5000 for 5 years at 7% a year; it grows 7 percent, lightness 7%"
    out = conform_percentages({"annual_return": 7, "amount": 5000, "growth": 7.0, "pct": 7, "lightness": 7,
                               "years": 5}, params, said)
    assert out == {"annual_return": 0.07, "amount": 5000, "growth": 0.07, "pct": 7, "lightness": 7, "years": 5}
    # a number the user also writes bare is converted only for a rate parameter
    both = "5 years at 5%"
    assert conform_percentages({"years": 5}, params, both) == {"years": 5}
    assert conform_percentages({"annual_return": 5}, params, both) == {"annual_return": 0.05}
    # what the model already wrote as a fraction stays
    assert conform_percentages({"annual_return": 0.07}, params, said) == {"annual_return": 0.07}


def test_a_number_given_as_one_quantity_is_misplaced_in_another():
    q = QueryFacts("Calculate the area of a triangle given the base is 10 meters and height is 5 meters.")
    assert misplaced_number("weight", 10, q)  # a BMI tool's weight: the user gave 10 as the base
    assert not misplaced_number("height", 5, q) and not misplaced_number("base", 10, q)
    assert not misplaced_number("weight", 7, q)  # not given at all: invented_number's to judge
    assert not misplaced_number("count", 10, q)  # no measured quantity
    assert not misplaced_number("weight", "10", q) and not misplaced_number("weight", True, q)
    # the same quantity in other words, or the parameter's quantity named by the user too
    assert not misplaced_number("initial_speed", 20, QueryFacts("a car with an initial velocity of 20 m/s"))
    assert not misplaced_number("radius", 5, QueryFacts("a circle of radius 4 and a width of 5"))
    # a number given as no quantity, or as one and also as something else: let be
    assert not misplaced_number("radius", 52, QueryFacts("a deck of 52 cards"))
    assert not misplaced_number("radius", 5, QueryFacts("a width of 5 and a total of 5"))


@given(st.sampled_from(["width", "height", "base", "depth", "mass", "speed", "price"]),
       st.sampled_from(["radius", "diameter", "temperature", "pressure", "area", "volume"]),
       st.integers(2, 10**6))
def test_a_number_given_as_its_own_quantity_is_never_misplaced(said, other, n):
    q = QueryFacts(f"Find it where the {said} is {n} and nothing else")
    assert not misplaced_number(said, n, q) and misplaced_number(other, n, q)


def test_one_text_or_object_the_user_wrote_once_in_two_arguments_is_doubled():
    q = QueryFacts("What is the frequency of gene variant rs7412 in the European population?")
    assert doubled_value({"allele1": "rs7412", "allele2": "rs7412"}, q)
    assert doubled_value({"allele1": "RS7412", "allele2": "rs7412"}, q)  # case does not make it another
    assert not doubled_value({"allele1": "rs7412", "allele2": "European"}, q)
    sides = QueryFacts("Calculate the hypotenuse for a right-angled triangle where other sides are 5 and 6")
    point = {"latitude": 5, "longitude": 6}
    assert doubled_value({"pointA": point, "pointB": dict(point)}, sides)
    assert not doubled_value({"pointA": point, "pointB": dict(point)}, QueryFacts("from (5, 6) to (5, 6)"))
    # numbers alone are let be (a square's width and height), and so is a text written twice
    assert not doubled_value({"width": 5, "height": 5}, QueryFacts("a square of side 5"))
    assert not doubled_value({"a": "English", "b": "English"}, QueryFacts("English to French and English to German"))
    assert not doubled_value({"a": "x", "b": "x", "c": True, "d": True}, q)  # one letter, booleans


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=10),
       st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=10))
def test_a_text_is_doubled_exactly_when_written_once_and_given_twice(a, b):
    assume(a != b and a not in b and b not in a and not {a, b} & {"please", "use", "and", "here", "from", "to"})
    once = QueryFacts(f"please use {a} and {b} here")
    assert doubled_value({"x": a, "y": a}, once) and not doubled_value({"x": a, "y": b}, once)
    assert not doubled_value({"x": a, "y": a}, QueryFacts(f"from {a} to {a}"))


def test_a_tool_that_measures_another_quantity_than_the_one_asked_for():
    park = {"type": "object", "properties": {"radius": {"type": "number", "description": "The radius of the park."},
                                             "units": {"type": "string"}}}
    sphere = QueryFacts("Calculate the volume of the sphere with radius 3 units.")
    assert measures_another("calculate_park_area", park, "Calculate the total area of a park.", sphere)
    # the tool's own quantity asked for, no quantity asked for, or a tool that names none: let be
    assert not measures_another("calculate_park_area", park, "", QueryFacts("What is the area of a park of radius 3?"))
    assert not measures_another("calculate_park_area", park, "", QueryFacts("How big is a park of radius 3?"))
    assert not measures_another("park_info", park, "", sphere)
    # a quantity the tool takes or describes is none other than its own
    assert not measures_another("calculate_park_area", park, "", QueryFacts("A park with a radius of 3 units"))
    assert not measures_another("calc_area", park, "Area or volume of a shape.", sphere)
    # the same quantity in other words
    assert not measures_another("final_velocity", {}, "", QueryFacts("What is the final speed of the car?"))


@given(st.sampled_from(["area", "volume", "speed", "weight", "pressure", "temperature", "price"]),
       st.sampled_from(["area", "volume", "speed", "weight", "pressure", "temperature", "price"]))
def test_a_tool_measures_another_quantity_exactly_when_they_differ(own, asked):
    q = QueryFacts(f"What is the {asked} of it?")
    assert measures_another(f"calculate_{own}", {}, "", q) == (own != asked)


def test_a_city_is_stated_with_the_place_it_lies_in():
    # the model adds the state a description's 'City, State' asks for: still the user's city
    q = QueryFacts("Is it raining in Seattle?")
    assert q.states("Seattle, WA") and q.states("Seattle, Washington")
    assert not q.states("Seattle, CA") and not q.states("Portland, WA")  # a wrong state, a city not named
    abroad = QueryFacts("What's the weather in Mumbai?")
    assert abroad.states("Mumbai, India") and not abroad.states("Mumbai, China") and not abroad.states("Mumbai, CA")
    assert not abroad.states(", India") and not abroad.states("Delhi, Mumbai, India")


@given(st.sampled_from([("Denver", "CO"), ("Boston", "MA"), ("Austin", "TX"), ("Chicago", "IL"), ("Miami", "FL")]),
       st.sampled_from(["What's the weather in {}?", "Find hotels in {} for 2", "{} news please"]))
def test_a_us_city_is_stated_with_its_own_state_only(city_state, template):
    city, state = city_state
    q = QueryFacts(template.format(city))
    assert q.states(f"{city}, {state}")
    assert not q.states(f"{city}, {'NV' if state != 'NV' else 'UT'}")


def test_a_flag_is_asked_for_where_the_query_names_its_feature():
    flag = {"type": "boolean", "description": "If true, returns the shortest driving route."}
    assert flag_asked("shortest_route", flag, "Driving distance from Oslo to Bergen, shortest route enabled") is True
    assert flag_asked("shortest_route", flag, "Driving distance from Oslo to Bergen") is False
    assert flag_asked("shortest_route", flag, "The shortest distance from Oslo to Bergen") is None  # in part
    # in another form of its words, run together, or by a run of its description
    assert flag_asked("standardize", {"type": "boolean"}, "Run a regression. Also apply standardization.") is True
    assert flag_asked("multiplayer", {"type": "boolean"}, "Find all multi-player games of 2019") is True
    assert flag_asked("include_stats", {"type": "boolean"}, "the last match of Chelsea with statistics") is True
    brief = {"type": "boolean", "description": "Option to get additional information like Director, Cast, Awards etc."}
    assert flag_asked("extra_info", brief, "A brief of 'Heat', with additional information like Director, Cast") is True
    # a flag whose name and description tell no feature
    assert flag_asked("optional_param", {"type": "boolean", "description": "Defaults to false."}, "anything") is None


def test_a_flag_denied_in_its_clause_is_not_asked_for():
    ruling = {"type": "boolean", "description": "Option to return the full text of the case ruling."}
    assert flag_asked("full_text", ruling, "Get case 12345. I don't need the full text of the case ruling.") is False
    assert flag_asked("include_human_impact", {"type": "boolean"},
                      "Forest growth in the Amazon if we do not include the impact of human activities") is False
    # a denial in another clause, or a case number "No", denies nothing
    assert flag_asked("full_text", ruling, "Not urgent, but get case 12345 with the full text") is True
    assert flag_asked("include_history", {"type": "boolean"}, "Case No 28473, its history") is True


def test_flags_are_set_as_asked():
    params = {"type": "object", "required": ["title"],
              "properties": {"title": {"type": "string"},
                             "availability": {"type": "boolean", "description": "If true, search for available copies."},
                             "want_year": {"type": "boolean", "description": "Return the year of invention if set to true."},
                             "cached": {"type": "boolean", "default": True, "description": "Use the cache."}}}
    # turned on where nobody asked: left to the default; named: turned on
    assert flags_as_asked({"title": "Dune", "availability": True}, params, "Find the book Dune") == {"title": "Dune"}
    assert flags_as_asked({"title": "Dune"}, params, "Is Dune available?") == {"title": "Dune", "availability": True}
    assert flags_as_asked({"title": "phone", "want_year": False}, params,
                          "Who invented the phone, and the year of invention?") == {"title": "phone", "want_year": True}
    # several calls of the tool may each want it otherwise: nothing is turned on
    assert flags_as_asked({"title": "Dune"}, params, "Is Dune available?", alone=False) == {"title": "Dune"}
    # a flag on by default, or a required one, is not taken off
    assert flags_as_asked({"title": "Dune", "cached": True}, params, "Find Dune") == {"title": "Dune", "cached": True}
    required = dict(params, required=["title", "availability"])
    assert flags_as_asked({"title": "Dune", "availability": True}, required, "Find Dune")["availability"] is True


def test_the_parts_of_a_request_each_call_of_a_tool_is_about():
    q = ("Get two lawsuits. The first has case number '12345', filed in the New York Supreme Court. I would also "
         "like the verdict details for this case. The second has case number '67890', filed in the same court.")
    first, second = call_parts(q, [{"case": "12345", "court": "New York Supreme Court"},
                                   {"case": "67890", "court": "New York Supreme Court"}])
    # a clause of no call's value goes on about the call before it; a value both share tells nothing
    assert "verdict" in first and "12345" in first and "67890" not in first
    assert "67890" in second and "verdict" not in second
    # a clause that holds both calls' values is about neither alone
    assert call_parts("Distances from Oslo to Bergen and from Rome to Milan", [
        {"from": "Oslo", "to": "Bergen"}, {"from": "Rome", "to": "Milan"}]) == ["", ""]


def test_a_flag_is_set_for_the_call_whose_part_names_it():
    params = {"type": "object", "required": ["case"],
              "properties": {"case": {"type": "string"}, "with_verdict": {"type": "boolean"}}}
    q = ("The first case is '12345'. I also need the verdict details for it. The second case is '67890'. "
         "I don't need the verdict details for that one.")
    calls = [{"case": "12345", "with_verdict": False}, {"case": "67890", "with_verdict": True}]
    parts = call_parts(q, calls)
    assert [flags_as_asked(c, params, q, alone=False, part=p) for c, p in zip(calls, parts)] == \
        [{"case": "12345", "with_verdict": True}, {"case": "67890"}]
    # a part that says nothing of the flag leaves the model's value, as without parts
    assert flags_as_asked({"case": "67890", "with_verdict": False}, params, q, alone=False,
                          part="The second case is '67890'") == {"case": "67890", "with_verdict": False}


@given(st.sampled_from(["shortest_route", "include_history", "with_verdict", "organic"]),
       st.sampled_from(["Find the route from A to B", "Look up case 12345", "Show me the brands", ""]))
def test_a_flag_the_query_never_names_is_never_turned_on(key, query):
    params = {"type": "object", "properties": {key: {"type": "boolean"}}}
    assume(not any(w in query.lower() for w in key.split("_") if w not in ("include", "with")))
    assert flags_as_asked({key: True}, params, query) == {}
    assert flags_as_asked({}, params, query) == {}


def test_a_parameter_name_with_a_number_nobody_said_is_no_mention():
    params = {"type": "object", "required": ["game"],
              "properties": {"game": {"type": "string"}, "mission": {"type": "string"}, "trophy": {"type": "string"}}}
    q = QueryFacts("Find out the rewards for playing Fortnite with different missions and trophies")
    assert grounded_arguments({"game": "Fortnite", "mission": "Mission 1", "trophy": "Trophy 1"}, params, q) == \
        {"game": "Fortnite"}
    said = QueryFacts("Rewards for Fortnite for mission 3 and the Gold trophy")
    assert grounded_arguments({"game": "Fortnite", "mission": "Mission 3", "trophy": "Gold Trophy"}, params, said) == \
        {"game": "Fortnite", "mission": "Mission 3", "trophy": "Gold Trophy"}
