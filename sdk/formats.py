"""Argument values written the way a parameter's description asks for them.

Tool schemas often state a date or time format in prose ("The date, in the format
mm-dd-yyyy", "in 24-hour format 'HH:MM'") rather than as a JSON Schema `pattern`, so the
grammar cannot hold the model to it; the 0.5B model writes dates as ISO 8601 and times as
"06:30 AM" whatever the description says. A date or time it wrote is rewritten in the
format the description names (edgeagent/datetimes.py). And it cannot know today's date:
a date or time it wrote for "tomorrow at 9am" or "in 2 hours" is written as the clock
makes it (`dates_as_told`).

Likewise a rate: the model copies "7%" as 7, where a number parameter that takes a
rate takes the fraction 0.07 unless its description asks for a percentage; a quantity:
it copies "50mH" as 50 where the description asks for henries; a place: it copies
"Denver" where the description asks for "the city and state, e.g. Boston, MA"; a
currency: it copies "Euros" where a currency parameter takes a code (EUR). And a
number the user wrote with a scale word ("50 million") it often copies with a zero too
many or too few; a name it starts with an article the user wrote as an article, not as
part of the name ("the theory of evolution" copied as "The theory of evolution"); a
count of days the user gave as a period ("the upcoming month") it fills with the
parameter's default; a journey "from Las Vegas to Los Angeles" it may start in Los
Angeles; a name the user wrote with a sign ("C#", "C++") it cuts before the sign.
"""

from __future__ import annotations

import functools
import math
import re
from typing import Any, Callable, Mapping, Optional

from .currencies import codes_named, currency_code
from .datetimes import as_told, clock, conform, readings
from .grounding import NUMBER_WORDS, leaf_values, numbers_in, padded_words, says, scaled_numbers, schema_has
from .places import state_code, state_name, state_of, world_city
from .tool import name_in_words

__all__ = ["conformed", "dates_as_told", "conform_dates", "conform_percentages", "conform_units",
           "conform_asked_units", "conform_places", "conform_currencies", "conform_scaled_numbers", "conform_articles",
           "conform_periods", "conform_directions", "conform_signed_names", "unit_registry"]


def conformed(arguments: Mapping[str, Any], parameters: Mapping[str, Any], text: str) -> dict[str, Any]:
    """`arguments` with every rewrite of this module applied; `text` is what the user said."""
    out = conform_dates(arguments, parameters, text)
    out = conform_percentages(out, parameters, text)
    out = conform_units(out, parameters, text)
    out = conform_asked_units(out, parameters, text)
    out = conform_scaled_numbers(out, parameters, text)
    out = conform_articles(out, parameters, text)
    out = conform_periods(out, parameters, text)
    out = conform_directions(out, parameters, text)
    out = conform_signed_names(out, parameters, text)
    return conform_currencies(conform_places(out, parameters, text), parameters)


Rewrite = Callable[[str, Any, Mapping[str, Any]], Any]


def _each_value(arguments: Mapping[str, Any], parameters: Mapping[str, Any], kind: type, rewrite: Rewrite) -> dict:
    """`arguments` with `rewrite(key, value, schema)` applied to each value of `kind`
    (`str`, or `float` for any number but a bool) whose parameter has a schema; it returns
    the value to write, or None to leave the value as written."""
    properties = parameters.get("properties") or {}
    out = dict(arguments)
    for key, value in arguments.items():
        schema = properties.get(key)
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        if isinstance(schema, Mapping) and (isinstance(value, str) if kind is str else number):
            new = rewrite(key, value, schema)
            if new is not None:
                out[key] = new
    return out


def _description(schema: Mapping[str, Any]) -> str:
    return str(schema.get("description") or "")

# "Default is the current date", "Defaults to today", "If not provided, today's date is used"
_TODAY_BY_DEFAULT = re.compile(r"\bdefaults?\b[^.]*\b(?:today|current (?:date|day))\b|"
                               r"\bif (?:not|none|omitted)\b[^.]*\b(?:today|current (?:date|day))\b", re.I)


def dates_as_told(arguments: Mapping[str, Any], parameters: Mapping[str, Any], text: str) -> dict[str, Any]:
    """`arguments` with the dates and times of their string parameters that the user told
    (in `text`) written as told (datetimes.as_told): "2026-12-04 09:00" for the model's
    "2023-10-01 09:00" after "tomorrow at 9am". An optional date that is today where the
    description makes today the default is left to the tool."""
    properties = parameters.get("properties") or {}
    values = {k: v for k, v in arguments.items() if isinstance(v, str) and isinstance(properties.get(k), Mapping)}
    out = {**arguments, **as_told(values, {k: _description(properties[k]) for k in values}, text)}
    required, today = set(parameters.get("required") or []), clock().date()
    for k in values:
        if k not in required and _TODAY_BY_DEFAULT.search(_description(properties[k])) and \
                readings(out[k])[:1] == [{"year": today.year, "month": today.month, "day": today.day}]:
            del out[k]
    return out


def conform_dates(arguments: Mapping[str, Any], parameters: Mapping[str, Any],
                  text: Optional[str] = None) -> dict[str, Any]:
    """`arguments` with each date or time of a string parameter whose description names a
    layout written in that layout (datetimes.conform): 06-01-2023 for 2023-06-01 where it
    asks for mm-dd-yyyy or "(month-day-year)", 06:30 for "06:30 AM" where it asks for
    'HH:MM' (24-hour), 17:45:00 for 17:45 where it asks for HH:MM:SS; with what the user
    said (`text`), 04-2022 for 2022-04-20 where it asks for mm-yyyy and the user said
    "April 2022"."""
    return _each_value(arguments, parameters, str,
                       lambda key, value, schema: conform(value, _description(schema), text))


_PERCENT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*(%|percent\b)?", re.I)
# "in percentage", "as a percent" (a "%" alone is an example's: "as a decimal, e.g. 5% = 0.05")
_ASKS_PERCENT = re.compile(r"\bpercent(?:age)?s?\b", re.I)
_RATE = re.compile(r"(?:(?<![A-Za-z])[rR]|(?<=[a-z])R)ates?(?![a-z])")  # "interest_rate", "annualRate"


def conform_percentages(arguments: Mapping[str, Any], parameters: Mapping[str, Any], text: str) -> dict[str, Any]:
    """`arguments` with each value of a "number" parameter that `text` (what the user
    said) writes as a percentage (7 for "7%") written as a fraction (0.07), unless the
    parameter's description asks for a percentage ("the rate in percentage"). Where the
    text also writes the number bare ("5 years at 5%"), only a rate parameter (its name
    or description says so) is converted. Integer parameters ("lightness level in
    percentage") cannot take fractions: left as written."""
    percent, bare = set(), set()
    for m in _PERCENT.finditer(text):
        (percent if m.group(2) else bare).add(float(m.group(1)))

    def rewrite(key: str, value: float, schema: Mapping[str, Any]) -> Optional[float]:
        description = _description(schema)
        if "number" not in _types(schema) or float(value) not in percent or _ASKS_PERCENT.search(description):
            return None
        if float(value) not in bare or _RATE.search(f"{key} {description}"):
            return round(float(value) / 100, 12)
        return None

    return _each_value(arguments, parameters, float, rewrite)


@functools.lru_cache(maxsize=1)
def unit_registry():  # type: ignore[no-untyped-def]
    """The process's one pint registry (building it takes about 0.3 s: on first use)."""
    import pint
    return pint.UnitRegistry()


# What a description may ask a quantity in: the physical measures (pint also reads "units"
# as micro-nits and "degrees" as an angle; neither is meant).
_MEASURE_EXAMPLES = ("m", "m^2", "m^3", "kg", "s", "A", "K", "mol", "m/s", "m/s^2", "N", "J", "W", "Pa", "C", "F",
                     "H", "ohm", "V", "Hz", "kg/m^3", "T")
_TEMPERATURE_WORDS = {"celsius": "degC", "centigrade": "degC", "fahrenheit": "degF", "kelvin": "kelvin"}
# "in henries (H)", "in meters per second", "(kg)"
_DESCRIBED_UNIT = re.compile(r"\bin\s+((?:[^\s,.;:()]+\s*){1,3})|\(([^()]{1,16})\)")
# "50mH", "100 µF", "5 km/h", "25°C"
_QUANTITY = re.compile(r"(?<![\w.])(-?\d+(?:\.\d+)?)(?:\s?([A-Za-zµμΩ°][A-Za-z0-9µμΩ°/^²³·]*))?")


@functools.lru_cache(maxsize=1)
def _measures() -> set:
    return {unit_registry().parse_units(u).dimensionality for u in _MEASURE_EXAMPLES}


@functools.lru_cache(maxsize=1024)
def _unit(text: str) -> Optional[Any]:
    """The physical unit `text` names ("mH", "henries", "Kelvin", "meters per second"), or None."""
    low = re.sub(r"^degrees?\s+(?=[a-z])", "", text.strip().lower())  # "degrees Celsius"
    forms = [_TEMPERATURE_WORDS.get(low, ""), text.strip(), low]
    forms += [low[:-3] + "y"] if low.endswith("ies") else [low[:-1]] if low.endswith("s") else []
    for form in filter(None, forms):
        try:
            unit = unit_registry().parse_units(form)
        except Exception:  # pint raises UndefinedUnitError, but also AssertionError etc. on junk
            continue
        if unit.dimensionality in _measures():
            return unit
    return None


def _described_units(description: str) -> list:
    """The units a description asks for ("The inductance (L) in henries (H)": henry)."""
    units = []
    for m in _DESCRIBED_UNIT.finditer(description):
        if m.group(2):
            candidates = [m.group(2)]
        else:  # the longest run of words that names a unit: "meters per second", not "meters"
            words = m.group(1).split()
            candidates = [" ".join(words[:n]) for n in range(len(words), 0, -1)]
        unit = next((u for u in map(_unit, candidates) if u is not None), None)
        if unit is not None and unit not in units:
            units.append(unit)
    return units


def conform_units(arguments: Mapping[str, Any], parameters: Mapping[str, Any], text: str) -> dict[str, Any]:
    """`arguments` with each value of a number parameter whose description asks for a
    unit ("in henries (H)") that `text` writes in another unit of the same measure ("50mH")
    converted (0.05). Only where every time the text writes that number it writes it in
    units of that measure, and the description names one unit of it."""
    quantities: dict[float, list] = {}
    for m in _QUANTITY.finditer(text):
        unit = _unit(m.group(2)) if m.group(2) else None
        quantities.setdefault(float(m.group(1)), []).append(unit)

    def rewrite(key: str, value: float, schema: Mapping[str, Any]) -> Optional[float]:
        units = quantities.get(float(value), [])
        wanted = [u for u in _described_units(_description(schema))
                  if units and all(w is not None and w.dimensionality == u.dimensionality for w in units)]
        if len(wanted) != 1 or len(set(units)) != 1 or units[0] == wanted[0]:
            return None
        try:
            converted = float(unit_registry().Quantity(float(value), units[0]).to(wanted[0]).magnitude)
        except Exception:  # pint's DimensionalityError, OffsetUnitCalculusError...
            return None
        if not math.isfinite(converted):
            return None
        converted = float(f"{converted:.12g}")
        if "number" in _types(schema):
            return converted
        return int(converted) if "integer" in _types(schema) and converted.is_integer() else None

    return _each_value(arguments, parameters, float, rewrite)


# "the answer in km/h", "I want the output in meters", "convert it into Celsius"; not "in
# 25 seconds" (a number's own unit) nor "in a day" (pint's "a" is a year).
_ASKED_UNIT = re.compile(r"\b(?:in|into)\s+(?=[^\W\d_])")
_WORDS_AFTER = re.compile(r"(?:[^\s,.;:()?!'\"]+\s*){1,3}")
_NOT_UNITS = {"a", "an", "the", "this", "that", "these", "those", "my", "your", "our", "its", "their", "each", "order"}
# A parameter for the unit a result comes in ("unit", "units", "to_unit", "temp_unit"),
# not one for the unit a given value is in ("from_unit", "input_unit").
_UNIT_NAMES = {"unit", "units"}
_GIVEN_UNIT_NAMES = {"from", "input", "source", "original", "initial"}
_SENTENCE_END = re.compile(r"(?<=[.?!;])\s+|\n+")


def _asked_units(text: str) -> list[tuple[str, Any]]:
    """The units `text` asks a result in, as written and as pint units ("in km/h")."""
    found = []
    for m in _ASKED_UNIT.finditer(text):
        words = _WORDS_AFTER.match(text, m.end()).group().split()
        if words[0].lower() in _NOT_UNITS or (words[0].isupper() and len(words[0]) <= 3):  # "in US dollars"
            continue
        for n in range(len(words), 0, -1):
            unit = _unit(" ".join(words[:n]))
            if unit is not None:
                found.append((" ".join(words[:n]), unit))
                break
    return found


def _name_words(key: str) -> set[str]:
    return set(padded_words(name_in_words(key)).split())  # "to_unit", "toUnit": to, unit


def _same_unit(a: Any, b: Any) -> bool:
    """Whether two pint units are one ("mph", "miles per hour")."""
    if a is None or b is None:
        return False
    try:
        return math.isclose(float(unit_registry().Quantity(1.0, a).to(b).magnitude), 1.0, rel_tol=1e-9)
    except Exception:  # pint's DimensionalityError, OffsetUnitCalculusError...
        return False


def _holds(sentence: str, value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return float(value) in numbers_in(sentence)
    return isinstance(value, str) and bool(value.strip()) and says(padded_words(sentence), value)


def conform_asked_units(arguments: Mapping[str, Any], parameters: Mapping[str, Any], text: str) -> dict[str, Any]:
    """`arguments` with the parameter for a result's unit ("unit", "to_unit") given the unit
    the user asks the result in ("...and provide the answer in km/h"), where the model left
    it out or wrote another unit: asked for four circles' circumferences "in meters", the
    0.5B model left `units` to its default, 'cm'. The unit asked is the one of the
    sentences that hold the call's other values ("the speed of a car ... in km/h? ... of a
    bicycle ... in m/s?"), or of the whole text where they ask none; nothing is written where
    that is more than one unit or the tool has two such parameters, and the model's own
    unit stays where it names none ("metric"), the user wrote it, or it is of another
    measure."""
    properties = parameters.get("properties") or {}
    keys = [k for k, schema in properties.items() if isinstance(schema, Mapping) and "string" in _types(schema)
            and _UNIT_NAMES & _name_words(k) and not _GIVEN_UNIT_NAMES & _name_words(k)]
    if len(keys) != 1:
        return dict(arguments)
    key = keys[0]
    values = [v for k, value in arguments.items() if k != key for v in leaf_values(value)]
    sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
    own = [s for s in sentences if any(_holds(s, v) for v in values)]
    asked = [a for s in own for a in _asked_units(s)] or _asked_units(text)
    if len({unit for _, unit in asked}) != 1:
        return dict(arguments)
    phrase, unit = asked[0]
    schema = properties[key]
    if key in arguments:
        # the model's own unit stays where it names no unit, the user wrote it ("in atomic
        # mass unit (amu)"), or it measures something else (a mass where a length is asked:
        # the unit asked is another call's)
        written = arguments[key]
        if not isinstance(written, str) or says(padded_words(text), written):
            return dict(arguments)
        own_unit = _unit(written)
        if own_unit is None or own_unit.dimensionality != unit.dimensionality or _same_unit(own_unit, unit):
            return dict(arguments)
    options = schema.get("enum")
    if options:
        phrase = next((o for o in options if isinstance(o, str) and (o.lower() == phrase.lower() or
                                                                      _same_unit(_unit(o), unit))), None)
        if phrase is None:
            return dict(arguments)
    return {**arguments, key: phrase}


def _significant(x: float) -> tuple[str, int]:
    """The digits and the power of ten of a number: 5e8 -> ("5", 8), 1.2e6 -> ("12", 6)."""
    mantissa, exponent = f"{abs(x):.11e}".split("e")
    return mantissa.replace(".", "").rstrip("0"), int(exponent)


def conform_scaled_numbers(arguments: Mapping[str, Any], parameters: Mapping[str, Any],
                           text: str) -> dict[str, Any]:
    """`arguments` with each number `text` does not write, but that has the digits of one
    (and only one) number it writes with a scale word ("50 million", "$1.2M") and is off by
    a factor of 10 to 1000 (500000000), written as that number (50000000)."""
    scaled = scaled_numbers(text)
    if not scaled:
        return dict(arguments)
    said = numbers_in(text)

    def rewrite(key: str, value: float, schema: Mapping[str, Any]) -> Optional[float]:
        if value <= 0 or float(value) in said:
            return None
        digits, power = _significant(float(value))
        near = [n for n, (d, p) in ((n, _significant(n)) for n in scaled if n > 0)
                if d == digits and 1 <= abs(p - power) <= 3]
        if len(near) != 1:
            return None
        n = near[0]
        if "integer" in _types(schema) or (isinstance(value, int) and n.is_integer()):
            return int(n) if n.is_integer() else None
        return n

    return _each_value(arguments, parameters, float, rewrite)


# A description asking for a US place as city and state: "The city and state, e.g. Denver,
# CO" ("Denver, Colorado" asks for the state's name); "in the format: city, state".
_CITY_AND_STATE = re.compile(r"\bcity(?: name)?,? and state\b|\bcity, state\b(?!,? or\b)", re.I)
_PLACE_EXAMPLE = re.compile(r"\b(?:e\.g\.|for example|such as|like)[:,]?\s+['\"]?[A-Z][\w.']*(?:\s[A-Z][\w.']*)*,"
                            r"\s?([A-Z]{2}|[A-Z][a-z]+(?:\s[A-Z][a-z]+)?)\b")


def conform_places(arguments: Mapping[str, Any], parameters: Mapping[str, Any], text: str = "") -> dict[str, Any]:
    """`arguments` with each US city written alone ("Denver") to a string parameter whose
    description asks for the city and state written as the city and its state ("Denver,
    CO"; "Denver, Colorado" where the description's example writes the state's name).
    Cities of 100,000 people or more (places.py). A US city given a state that `text`
    (what the user said) does not name and that is not its own gets its own ("Austin,
    CA" for "weather in Austin": the 0.5B model copies the description's example).

    And to a parameter that takes a city (its name or description says "city"), a large
    city outside the US given a US state the user did not name ("Mumbai, CA") or a
    qualifier in another script ("Beijing, 美国") with its country instead where the
    description asks for one, else alone; written alone, with its country where the
    description asks for the format "City, Country" ("Madrid" -> "Madrid, Spain"); a
    city named in Chinese, Japanese or Korean script, in English ("上海" -> "Shanghai").
    Any other value is left as written."""
    said = padded_words(text)

    def rewrite(key: str, value: str, schema: Mapping[str, Any]) -> Optional[str]:
        if _has_enum(schema):
            return None
        description = _description(schema)
        if "," in value:
            return _with_own_state(value, said) or _abroad(value, f"{key} {description}", said)
        example = _PLACE_EXAMPLE.search(description)
        example_state = example.group(1) if example else None
        if example_state is not None and state_code(example_state) is None:
            return None  # "e.g. London, UK": not a US place
        state = state_of(value)
        if state is None or (example_state is None and not _CITY_AND_STATE.search(description)):
            return _abroad(value, f"{key} {description}", said)
        spelled = state if example_state is None or len(example_state) == 2 else state_name(state)
        return f"{value.strip()}, {spelled}"

    return _each_value(arguments, parameters, str, rewrite)


_TAKES_CITY = re.compile(r"(?<![^\W_])cit(?:y|ies)(?![^\W_])", re.I)
_ASKS_COUNTRY = re.compile(r"\bcountry\b", re.I)
_CITY_COMMA_COUNTRY = re.compile(r"\bcity,\s*country\b", re.I)  # "in the format 'City, Country'"


def _with_own_state(value: str, said: str) -> Optional[str]:
    """"Austin, CA" as "Austin, TX" where the user did not name California (None: as written)."""
    head, _, tail = (part.strip() for part in value.partition(","))
    state, own = state_code(tail), state_of(head)
    if state is None or own is None or own == state or says(said, tail) or says(said, state_name(state)):
        return None
    return f"{head}, {own if len(tail) == 2 else state_name(own)}"


def _abroad(value: str, about: str, said: str) -> Optional[str]:
    """A city outside the US as conform_places writes it (None: as written); `about` is
    the parameter's name and description, `said` the user's words, space-padded."""
    if not _TAKES_CITY.search(about):
        return None
    head, _, tail = (part.strip() for part in value.partition(","))
    city = world_city(head)
    if city is None:
        return None
    name, country = city
    state = state_code(tail) if tail else None
    invented = state is not None and state_of(head) != state and \
        not any(says(said, n) for n in (tail, state_name(state)))
    # a qualifier in a script the city's name is not written in, and the user did not write
    foreign = bool(tail) and not tail.isascii() and head.isascii() and tail not in said
    if invented or foreign:
        return f"{name}, {country}" if _ASKS_COUNTRY.search(about) else name
    if not tail and _CITY_COMMA_COUNTRY.search(about) and state_of(head) is None:
        return f"{name}, {country}"
    if name != head and not head.isascii():
        return f"{name}, {tail}" if tail else name
    return None


_ASKS_CURRENCY_NAME = re.compile(r"\bcurrency(?:'s)? (?:full )?name\b|\bname of the currency\b", re.I)


def conform_currencies(arguments: Mapping[str, Any], parameters: Mapping[str, Any]) -> dict[str, Any]:
    """`arguments` with each currency named in words ("Euros", "US dollars") to a string
    parameter that takes a currency (its name or description says so) written as its ISO
    4217 code (EUR, USD), unless the description asks for the currency's name."""
    def rewrite(key: str, value: str, schema: Mapping[str, Any]) -> Optional[str]:
        description = _description(schema)
        if ("currenc" not in f"{key} {description}".lower() or _ASKS_CURRENCY_NAME.search(description)
                or _has_enum(schema)):
            return None
        return currency_code(value)

    return _each_value(arguments, parameters, str, rewrite)


_LEADING_ARTICLE = re.compile(r"(the|an?) (?=\w)", re.I)


def conform_articles(arguments: Mapping[str, Any], parameters: Mapping[str, Any], text: str) -> dict[str, Any]:
    """`arguments` with a leading article left out of each string value whose rest the
    user wrote without that article capitalized before it: "the theory of evolution"
    names the theory of evolution, 'The Thinker' and "The Weeknd" keep theirs. A value
    the user did not write is left as written."""
    def rewrite(key: str, value: str, schema: Mapping[str, Any]) -> Optional[str]:
        article = _LEADING_ARTICLE.match(value)
        if article is None or _has_enum(schema):
            return None
        rest = value[article.end():]
        spots = [m.start() for m in re.finditer(rf"(?<!\w){re.escape(rest)}(?!\w)", text, re.I)]
        named = article.group(1).capitalize() + " "
        if not spots or any(text[max(0, i - len(named)):i] == named for i in spots):
            return None
        return rest

    return _each_value(arguments, parameters, str, rewrite)


# "the upcoming month", "next 2 weeks", "3 months", "for a week" (a bare "a day", as in
# "twice a day", is no period)
_PERIOD = re.compile(r"\b(?:(next|upcoming|coming|following|past|last)\s+)?(?:(\d+|" + "|".join(NUMBER_WORDS) +
                     r"|(?:(?<=\bfor )|(?<=\bwithin ))an?)\s+)?(day|week|fortnight|month|year)s?\b", re.I)
_PERIOD_DAYS = {"day": 1, "week": 7, "fortnight": 14, "month": 30, "year": 365}


def _periods_in_days(text: str) -> set[int]:
    """The periods `text` names, in days: {30} for "upcoming month concerts", {14} for
    "the next 2 weeks"; a unit with neither a count nor a next/past word names none."""
    out = set()
    for m in _PERIOD.finditer(text):
        if m.group(1) is None and m.group(2) is None:
            continue
        count = m.group(2).lower() if m.group(2) else "1"
        n = int(count) if count.isdigit() else int(NUMBER_WORDS.get(count, 1))
        out.add(n * _PERIOD_DAYS[m.group(3).lower()])
    return out


def conform_periods(arguments: Mapping[str, Any], parameters: Mapping[str, Any], text: str) -> dict[str, Any]:
    """`arguments` with the value of a number parameter that counts days ("days_ahead",
    "The number of days to forecast") that `text` does not write, where `text` names one
    period, written as that period in days: 30 for "upcoming month rock concerts" where
    the 0.5B model keeps the parameter's default of 7. A value the user wrote stays."""
    periods, said = _periods_in_days(text), numbers_in(text)
    if len(periods) != 1:
        return dict(arguments)
    days = periods.pop()

    def rewrite(key: str, value: float, schema: Mapping[str, Any]) -> Optional[float]:
        counts_days = "days" in key.lower() or re.search(r"\bdays\b", _description(schema), re.I)
        if not counts_days or float(value) in said or float(value) == days:
            return None
        return days if {"integer", "number"} & set(_types(schema)) else None

    return _each_value(arguments, parameters, float, rewrite)


# The words that give a parameter the start or the end of a journey (or a conversion):
# start_location / end_location, origin / destination, from_city / to_city, base_currency /
# target_currency, source_language / target_language.
_SOURCE_ROLES = frozenset("start starting origin from source departure departing base begin".split())
_TARGET_ROLES = frozenset("end ending destination dest to target arrival arriving final".split())


def _key_words(key: str) -> set[str]:
    return {w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", key)}


def _direction_pairs(keys: list[str]) -> list[tuple[str, str]]:
    """The (source, target) pairs among parameter names: the same words but for a role word."""
    words = {k: _key_words(k) for k in keys}
    return [(a, b) for a, wa in words.items() if wa & _SOURCE_ROLES for b, wb in words.items()
            if wb & _TARGET_ROLES and wa - _SOURCE_ROLES == wb - _TARGET_ROLES]


def _after(word: str, value: str, text: str) -> bool:
    return re.search(rf"\b{word}\s+(?:the\s+)?{re.escape(value)}(?!\w)", text, re.I) is not None


_AMOUNT = re.compile(r"(?<![\w.])(\d[\d,]*(?:\.\d+)?)\s*((?:[^\W\d_]+\.?\s*){1,3})")


def _amount_currencies(arguments: Mapping[str, Any], text: str) -> set[str]:
    """The currencies `text` writes an amount the call takes in ("for 500 US dollars": USD)."""
    amounts = {float(v) for v in arguments.values() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    found: set[str] = set()
    for m in _AMOUNT.finditer(text):
        if float(m.group(1).replace(",", "")) in amounts:
            words = m.group(2).split()
            found |= next(filter(None, (codes_named(" ".join(words[:n])) for n in range(len(words), 0, -1))), set())
    return found


def conform_directions(arguments: Mapping[str, Any], parameters: Mapping[str, Any], text: str) -> dict[str, Any]:
    """`arguments` with the two values of a start and an end parameter (see
    `_direction_pairs`) swapped where `text` says the other way round: "traffic from Las
    Vegas to Los Angeles" has its start in Las Vegas, whichever the model wrote first; and
    a currency conversion starts from the currency its amount is written in ("How many
    Canadian dollars can I get for 500 US dollars?": base USD, target CAD)."""
    out = dict(arguments)
    for source, target in _direction_pairs(list(arguments)):
        a, b = out[source], out[target]
        if not (isinstance(a, str) and isinstance(b, str)) or a.lower() == b.lower():
            continue
        if _after("from", b, text) and (_after("to", a, text) or _after("into", a, text)) and \
                not _after("from", a, text):
            out[source], out[target] = b, a
        elif currency_code(a) and currency_code(b) and \
                _amount_currencies(arguments, text) & {currency_code(a), currency_code(b)} == {currency_code(b)}:
            out[source], out[target] = b, a
    return out


def conform_signed_names(arguments: Mapping[str, Any], parameters: Mapping[str, Any], text: str) -> dict[str, Any]:
    """`arguments` with each string value that `text` writes only with a sign after it
    ("C#", "F#", "C++", "A+") written with it: asked for the key signature of C# major, the
    0.5B model writes the key "C"."""
    def rewrite(key: str, value: str, schema: Mapping[str, Any]) -> Optional[str]:
        if not value.strip() or _has_enum(schema):
            return None
        if re.search(rf"(?<![\w#+]){re.escape(value)}(?![\w#+])", text, re.I):
            return None
        signed = {m.group(0) for m in re.finditer(rf"(?<![\w#+]){re.escape(value)}[#+]+(?![\w#+])", text)}
        return signed.pop() if len(signed) == 1 else None

    return _each_value(arguments, parameters, str, rewrite)


def _has_enum(schema: Mapping[str, Any]) -> bool:
    return schema_has(schema, lambda s: "enum" in s)


def _types(schema: Mapping[str, Any]) -> list:
    t = schema.get("type")
    return t if isinstance(t, list) else [t]
