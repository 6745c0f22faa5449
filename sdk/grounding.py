"""Which argument values of a call come from the user's words.

A small model asked for "the weather in Oslo and Lima" often stops after the Oslo call;
asked once more for a next call, it writes the Lima call when there is one, and repeats
or invents a value when there is none. A value is *grounded* when the query states it
(a string whose words are in the query, a number the query writes, 5% read as 0.05 too);
a further call is worth keeping only when it brings a grounded value no earlier call used,
or calls a tool the query names that no earlier call was made to.
"""

from __future__ import annotations

import functools
import itertools
import json
import os
import re
from typing import Any, Callable, Iterable, Iterator, Mapping, Optional, Sequence

from text_to_num import alpha2digit

from .currencies import codes_named, currency_words
from .datetimes import Told, is_told, readings, told
from .places import state_code, states_implied, world_city
from .request import MONTHS, WEEKDAYS
from .tool import name_in_words

__all__ = ["NUMBER_WORDS",
           "QueryFacts", "conversation_facts", "is_english", "numbers_in", "scaled_numbers", "leaf_values", "name_words",
           "crossed", "adds_to_earlier", "grounded_arguments", "invented_number", "invented_text", "is_default",
           "leaves_unused", "schema_has", "word_in", "words_in", "misplaced_number", "measures_another", "doubled_value",
           "flag_asked", "flags_as_asked", "call_parts"]

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:,\d{3})*(?:\.\d+)?(?:[eE][-+]?\d+)?")
# "2 million", "$1.2M": the scaled value is stated too (a bare "5m" is five metres).
_SCALE_WORDS = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_SCALE_AFTER_MONEY = {"k": 1e3, "m": 1e6, "mn": 1e6, "b": 1e9, "bn": 1e9}
_SCALE = re.compile(r"(\s*)([A-Za-z]+)")
_UNIT = re.compile(r"(?<![\w.])(\d+(?:,\d{3})*(?:\.\d+)?)\s*([A-Za-z]+)")
_TOKEN = re.compile(r"[^\W_]+|[,;&]", re.UNICODE)  # words and the marks that join or part them
_JOINERS = {",", "&", "and", "or"}
_LINKS = _JOINERS | {"a", "an", "the"}  # what may stand between two joined values: "or the", "and a"
_QUOTED = re.compile(r"(?<!\w)['\"“‘]([^'\"”’\n.?!]+)['\"”’](?!\w)")
# Written capitalized as English writes them, they name no value of their own.
_CALENDAR = set(MONTHS + WEEKDAYS)
# Words that tell a date or time without digits: a query with none of them (and no
# number) gives no date, so an ISO date in a call is the model's ("movies playing in
# Bangalore" -> movie_date "2023-09-15").
_TIME_WORDS = _CALENDAR | {m[:3] for m in MONTHS} | {"sept"} | set("""today tonight tomorrow yesterday now currently
current upcoming recent recently latest next last ago soon later day days daily week weeks weekly weekend
month months monthly year years yearly annual morning afternoon evening night noon midnight hour hours
minute minutes date dates time times schedule season""".split())
# ...or numbers that do: a year, a day of the month ("the 15th"), a clock time ("6:30",
# "5pm"), a date in digits ("9/15"). "a hotel for 2 people" tells none.
_TIME_NUMBER = re.compile(r"\b(?:1[89]|2[01])\d\d\b|\b\d{1,2}(?:st|nd|rd|th)\b|\b\d{1,2}(?::\d\d)?\s*[ap]\.?m\b|"
                          r"\b\d{1,2}:\d\d\b|\b\d{1,4}[/.-]\d{1,2}(?:[/.-]\d{1,4})?\b", re.I)
# Words that order a list of requests ("the first one ... the second"), not a value of it.
_LIST_WORDS = set("""first second third fourth fifth last another other others different same next previous
both each either neither finally lastly""".split())


_CASED_WORD = re.compile(r"[^\W_]+")


def _case_forms(calls: Iterable[tuple[str, Mapping[str, Any]]]) -> set[str]:
    """The words of the calls' text values as written (case kept)."""
    return {w for _, args in calls for v in leaf_values(args) if isinstance(v, str) for w in _CASED_WORD.findall(v)}


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def words_in(text: str) -> list[str]:
    """The lowercase words (letters and digits) of a text, in order."""
    return _words(text)


NUMBER_WORDS = {w: float(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve".split())}


def _names_written(text: str) -> set[str]:
    """The words a text writes as names: capitalized but not at a sentence's start
    ("in Turkey"), in capitals ("NBA"), or in short quotes ('Solar Beam'); not month and
    day names."""
    names = set()
    for m in _WORD.finditer(text):
        word, before = m.group(), m.start() - 1
        if not word[0].isupper():
            continue
        while before >= 0 and text[before] in " \t\n'\"“‘(":
            before -= 1
        if (before >= 0 and text[before] not in ".!?:") or (len(word) > 1 and word.isupper()):
            names.add(word.lower())
    for m in _QUOTED.finditer(text):
        if len(_words(m.group(1))) <= 6:  # not a quoted sentence
            names.update(_words(m.group(1)))
    return names - _CALENDAR


def _value(m: re.Match) -> float:
    return float(m.group().replace(",", ""))


def _scaled(text: str, m: re.Match) -> Optional[float]:
    """The number `m` matched with the scale word written after it ("2 million", "$1.2M"), or None."""
    scale = _SCALE.match(text, m.end())
    if not scale:
        return None
    n = _value(m)
    word = scale.group(2).lower()
    money = m.start() > 0 and text[m.start() - 1] in "$€£¥"
    if word in _SCALE_WORDS:
        return n * _SCALE_WORDS[word]
    if money and not scale.group(1) and word in _SCALE_AFTER_MONEY:
        return n * _SCALE_AFTER_MONEY[word]
    return None


def _readings(text: str) -> Iterator[tuple[re.Match, set[float]]]:
    """Each number a text writes with the values it may be read as ("5%": 5 and 0.05;
    "2 million": 2 and 2000000)."""
    for m in _NUMBER.finditer(text):
        n = _value(m)
        readings = {n}
        if text[m.end():m.end() + 1] == "%" or text[m.end():m.end() + 8].lstrip().startswith("percent"):
            readings.add(n / 100)
        scaled = _scaled(text, m)
        if scaled is not None:
            readings.add(scaled)
        yield m, readings


def numbers_in(text: str) -> set[float]:
    """The numbers a text writes ("1,000" is 1000; "5%" is 5 and 0.05; "-4" is -4, not 4;
    "2 million" is 2 and 2000000)."""
    return set().union(*(readings for _, readings in _readings(text)))


def scaled_numbers(text: str) -> set[float]:
    """The numbers a text writes with a scale word ("50 million": 50000000; "$1.2M")."""
    return {x for m in _NUMBER.finditer(text) if (x := _scaled(text, m)) is not None}


# Scripts written without spaces between words (Chinese, Japanese) or with particles
# joined to them (Korean: "에어컨을" is "에어컨" + "을"): a value is stated where the
# query's text holds it, not only as a whole word.
_UNSPACED = re.compile(r"[\u1100-\u11ff\u3040-\u30ff\u3130-\u318f\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def is_english(text: str) -> bool:
    """Whether a text reads as English: at least a tenth of its words are English function
    words ("the", "in", "what", ...). Every query of the BFCL dev split does; "上海的天气",
    "¿Qué tiempo hace en Madrid?" and "Stell einen Timer auf 10 Minuten" do not."""
    words = _words(text)
    return bool(words) and sum(w in _FUNCTION_WORDS for w in words) >= 0.1 * len(words)


class QueryFacts:
    """The words and numbers a query states."""

    def __init__(self, query: str):
        words = _words(query)
        self.words = set(words)
        self.text = f" {' '.join(words)} "
        self.query = query
        self.lower = query.lower()
        # Outside English, a value in Latin letters the query does not write may be its
        # translation ("Seoul" for "서울", "celsius" for "摄氏度"), which words cannot check.
        self.english = is_english(query)
        self.numbers = numbers_in(query)
        # The numbers written as values, each with its readings: an exponent ("m^3",
        # "x^2") says what the number before it is, and a call that used 0.05 used "5%".
        self.values_written = [r for m, r in _readings(query) if not query.endswith(("^", "**"), 0, m.start())]
        self.names = _names_written(query)
        self._tokens = _TOKEN.findall(query.lower())
        self._frames: dict[str, set[tuple[int, str]]] = {}
        self._spans: dict[Any, list[tuple[int, int]]] = {}
        # numbers written in words: "two decimals", "a timer for fifteen minutes", "three
        # hundred and forty two" (text2num; only where a value is judged mentioned: a
        # number in words is no value left unused)
        self.number_words = {NUMBER_WORDS[w] for w in self.words if w in NUMBER_WORDS} | \
            (numbers_in(alpha2digit(query, "en")) - self.numbers if self.english else set())
        self.capitals = {w.lower() for w in re.findall(r"\b[A-Z]{1,2}\b", query)}  # "NY", "UK", "X"
        # Words the query writes in several cases, one of them in capitals: different values
        # ("the genotypes AA, Aa and aa", "Co and CO"), which the lowercase words above merge.
        forms: dict[str, set[str]] = {}
        for w in _CASED_WORD.findall(query):
            forms.setdefault(w.lower(), set()).add(w)
        self.case_distinct = {f for low, fs in forms.items() if len(fs) > 1 and low not in _FUNCTION_WORDS
                              and any(f.isupper() and len(f) > 1 for f in fs) for f in fs}
        # Whether the query may give a date or time: a word or a number that tells one.
        self.tells_time = bool(self.words & _TIME_WORDS or _TIME_NUMBER.search(query)) or not self.english
        # words written as a number's unit ("12 Amperes"): word -> (times so written, the numbers)
        self._units: dict[str, tuple[int, set[float]]] = {}
        for m in _UNIT.finditer(query):
            n, numbers = self._units.get(m.group(2).lower(), (0, set()))
            self._units[m.group(2).lower()] = (n + 1, numbers | {float(m.group(1).replace(",", ""))})
        self._count = {w: words.count(w) for w in self._units}

    @functools.cached_property
    def moments(self) -> Told:
        """The dates and times the query tells (datetimes.told), read once."""
        return told(self.query)

    @functools.cached_property
    def named_currencies(self) -> set[str]:
        """The ISO codes of the currencies the query names ("in Japanese Yen": JPY)."""
        return codes_named(self.text)

    @functools.cached_property
    def implied_states(self) -> set[str]:
        """The codes of the US states of the cities the query names ("in Denver": CO)."""
        return states_implied(self.text)

    def only_as_unit_of(self, word: str, numbers: set[Any]) -> bool:
        """Whether the query writes `word` only as the unit of some of `numbers`."""
        n, after = self._units.get(word, (0, set()))
        return n > 0 and n == self._count[word] and after <= numbers

    def used_number(self, n: Any, used: set[Any]) -> bool:
        """Whether the number `n`, or another reading of the number the query writes as
        `n` ("5%": 5 and 0.05), is among `used`."""
        return n in used or any(n in r and r & used for r in self.values_written)

    def reads_as_value(self, word: str, used: set[Any]) -> bool:
        """Whether `word` reads as a value of its own beside the values an earlier call
        `used`: a name ("Turkey", "NBA", 'Solar Beam'), unless it qualifies the used value
        it follows after a comma ("Miami, Florida"; "Berlin, Madrid and Rome" is a list);
        a word joined to a used one by and/or ("vegan and vegetarian"); or a word in the
        same frame as a used one ("a neuron cell ... a muscle cell")."""
        if word in _LIST_WORDS:
            return False
        spots = [i for i, t in enumerate(self._tokens) if t == word]
        if word in self.names and not all(self._qualifies(i, used) for i in spots):
            return True
        return any(self._joined(i, used) for i in spots) or bool(self._frame(word) & set().union(
            *(self._frame(u) for u in used if isinstance(u, str) and u in self.words)))

    def _qualifies(self, i: int, used: set[Any]) -> bool:
        # The whole name the word is part of ("New York" of "Manhattan, New York") follows
        # the comma, and the comma is no list's ("Berlin, Madrid and Rome").
        start, end = i, i + 1
        while start > 0 and self._tokens[start - 1] in self.names:
            start -= 1
        while end < len(self._tokens) and self._tokens[end] in self.names:
            end += 1
        return start >= 2 and self._tokens[start - 2] in used and self._tokens[start - 1] == "," and \
            not self._lists(start - 1, start, end)

    def _joined(self, i: int, used: set[Any]) -> bool:
        for step in (-1, 1):
            j, joined = i + step, False
            while 0 <= j < len(self._tokens) and self._tokens[j] in _LINKS:
                joined, j = joined or self._tokens[j] in ("and", "or", "&"), j + step
            if joined and 0 <= j < len(self._tokens) and self._tokens[j] in used:
                return True
        return False

    def _spots(self, value: Any) -> list[tuple[int, int]]:
        """The token spans where the query writes a value (1900, "Los Angeles"). Kept:
        leaves_unused asks for the same values' spans pair after pair."""
        if value not in self._spans:
            written = int(value) if isinstance(value, float) and value.is_integer() else value
            want = _TOKEN.findall(str(written).lower())
            n, tokens = len(want), self._tokens
            self._spans[value] = [(i, i + n) for i in range(len(tokens) - n + 1) if n and tokens[i:i + n] == want]
        return self._spans[value]

    def _joins(self, a: int, b: int) -> bool:
        """Whether the tokens a..b are joiners only (and, or, &, a comma)."""
        between = self._tokens[a:b]
        return bool(between) and all(t in _JOINERS for t in between)

    def paired(self, value: Any, other: Any) -> bool:
        """Whether the query writes `value` joined to `other` of the same kind (two names,
        two numbers) by and/or/a comma wherever it writes it ("in 1900 and 1950", "Neutron
        and Proton ... Proton and Neutron"): a request asked of one is asked of the other
        ("the life expectancy and the GDP in 1900 and 1950"). Not when `value` is written
        apart too ("between Paris and Lyon, and the weather in Paris"), nor across a list of
        requests ("for New York, a 7-day forecast")."""
        if isinstance(value, str) != isinstance(other, str):
            return False
        spots, others = self._spots(value), self._spots(other)
        return bool(spots) and bool(others) and all(
            any(self._lists(e, s2, e2) or self._lists(e2, s, e) for s2, e2 in others) for s, e in spots)

    def _lists(self, a: int, b: int, end: int) -> bool:
        """Whether the tokens a..b join the value ending at `end` to the one before as a list:
        joiners only, and a lone comma only where a joiner follows ("Paris, Rome and Oslo";
        "Manhattan, New York" names one place)."""
        if self._tokens[a:b] != [","]:
            return self._joins(a, b)
        return end < len(self._tokens) and self._tokens[end] in _JOINERS

    def _frame(self, word: str) -> set[tuple[int, str]]:
        """The telling words next to `word` where the query writes it: (side, word).
        Kept: leaves_unused asks for the frames of the same used values once per word left."""
        if word not in self._frames:
            tokens = self._tokens
            self._frames[word] = {(step, tokens[i + step]) for i, t in enumerate(tokens) if t == word
                                  for step in (-1, 1) if 0 <= i + step < len(tokens)
                                  and tokens[i + step] not in _NOT_TELLING}
        return self._frames[word]

    def says_number(self, value: Any) -> bool:
        """Whether `value` is a number the query writes in words ("fifteen minutes": 15)."""
        return isinstance(value, (int, float)) and not isinstance(value, bool) and \
            _number(value) in self.number_words

    def states(self, value: Any) -> bool:
        if isinstance(value, bool) or value is None:
            return False
        if isinstance(value, (int, float)):
            return _number(value) in self.numbers
        if isinstance(value, str):
            words = _words(value)
            return bool(words) and (f" {' '.join(words)} " in self.text or all(self.has_word(w) for w in words)
                                    or value in self.named_currencies  # "GBP" for "British Pounds"
                                    or any(is_told(m, self.moments) for m in readings(value))  # "06:30": "6:30 am"
                                    or self._placed(value))
        return False

    def _placed(self, value: str) -> bool:
        """Whether `value` is a city the query names with the place it lies in, which the
        user left to be known ("Seattle, WA" for "Is it raining in Seattle?", where a
        description asks for 'City, State'; "Mumbai, India")."""
        city, _, where = value.rpartition(",")
        if not city.strip() or "," in city or not self.states(city):
            return False
        abroad = world_city(city)
        return state_code(where) in states_implied(city) or (abroad is not None and _key(where) == _key(abroad[1]))

    def has_word(self, word: str) -> bool:
        """Whether the query writes `word` (lowercase): as a word of its own, or, in a script
        written without spaces, anywhere in its text ("北京" in "我想知道北京的天气")."""
        return word in self.words or (_UNSPACED.search(word) is not None and word in self.lower)


# ISO dates and times in a conversation (the assistant writes them into the request:
# "Monday (2026-03-16T08:00)"; tools return them): their parts are not numbers anyone
# said ("08:00" states no 0). A whole value of this shape is judged apart (_mentioned).
ISO_DATE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?|\b\d{1,2}:\d{2}(?::\d{2})?\b")


def conversation_facts(messages: Iterable[Mapping[str, Any]], *, times: bool = False) -> QueryFacts:
    """What the user said and the tools returned in a conversation (not the system
    prompt's instructions), for grounding arguments. `times`: keep the numbers of ISO
    dates and clock times (left out by default: "08:00" states no 0)."""
    text = "\n".join(m["content"] for m in messages
                     if m.get("role") in ("user", "tool") and isinstance(m.get("content"), str))
    if times:
        return QueryFacts(text)
    facts = QueryFacts(ISO_DATE_TIME.sub(" ", text))
    facts.tells_time = facts.tells_time or bool(ISO_DATE_TIME.search(text))
    return facts


def leaf_values(value: Any) -> Iterator[Any]:
    """The strings and numbers inside an argument value (lists and objects walked)."""
    if isinstance(value, Mapping):
        for v in value.values():
            yield from leaf_values(v)
    elif isinstance(value, (list, tuple)):
        for v in value:
            yield from leaf_values(v)
    elif isinstance(value, (str, int, float)) and not isinstance(value, bool):
        yield value


def _number(value: Any) -> Any:
    try:
        return float(value)
    except OverflowError:  # an integer beyond float range states nothing a query writes
        return value


def _key(value: Any) -> Any:
    return " ".join(_words(value)) if isinstance(value, str) else _number(value)


# Verbs that half of all tool names start with; they say nothing about which tool.
_GENERIC = {"get", "find", "calculate", "calc", "compute", "search", "fetch", "list", "create", "make", "check",
            "update", "set", "retrieve", "lookup", "query", "info", "data", "details", "tool", "function"}


def name_words(name: str) -> set[str]:
    """The telling words of a tool name ("kinematics.distance_traveled" -> kinematics, distance, traveled)."""
    return {w for w in _words(name_in_words(name)) if len(w) >= 3 and w not in _GENERIC}


# Enum values every other tool offers; saying them tells nothing of which tool is meant.
_GENERIC_OPTIONS = {"true", "false", "none", "null", "auto", "default", "other", "both"}


def option_phrases(schema: Any) -> set[str]:
    """The telling options of a tool's parameters: its string enum values of four letters
    or more ("fahrenheit", "Pet-friendly"), generic ones left out."""
    found: set[str] = set()

    def collect(s: Mapping[str, Any]) -> bool:
        for v in s.get("enum") or ():
            words = _words(v) if isinstance(v, str) else []
            if sum(len(w) for w in words) >= 4 and " ".join(words) not in _GENERIC_OPTIONS:
                found.add(v)
        return False

    schema_has(schema, collect)
    return found


def padded_words(text: str) -> str:
    """The text's words, lowercase, space-joined and space-padded: what `says` reads."""
    return f" {' '.join(_words(text))} "


def says(said: str, name: str) -> bool:
    """Whether the user's words (`said`, from padded_words) include `name`'s, in a row."""
    return f" {' '.join(_words(name))} " in said


def word_in(word: str, words: set[str]) -> bool:
    """The word, or its plural or singular, is among `words` ("city", "cities"; "box",
    "boxes"; "probability", "probabilities")."""
    return word in words or any(form in words for form in _number_forms(word))


def _number_forms(word: str) -> set[str]:
    """The regular plural of a word, and the singulars it may be the plural of."""
    sibilant = ("s", "x", "z", "ch", "sh")
    forms = {word + "es" if word.endswith(sibilant) else word + "s"}
    if len(word) > 2 and word.endswith("y") and word[-2] not in "aeiou":
        forms.add(word[:-1] + "ies")
    if word.endswith("s"):
        forms.add(word[:-1])
        if word.endswith("es") and word[:-2].endswith(sibilant):
            forms.add(word[:-2])
        if word.endswith("ies") and len(word) > 4:
            forms.add(word[:-3] + "y")
    return forms


def _accounted(earlier: list[tuple[str, Mapping[str, Any]]]) -> tuple[set[Any], set[str], set[str]]:
    """What earlier calls (name, arguments) took from a query: the values they used, the
    words their parameter names and values account for, and the telling words of their
    tool names."""
    used: set[Any] = set()
    said: set[str] = set()  # query words the earlier calls account for: parameter names and values
    for _, args in earlier:
        for key in args:
            said.update(_words(name_in_words(key)))
        for v in leaf_values(args):
            used.add(_key(v))
            if isinstance(v, str):  # "3x^2 + 2x - 1" used the query's 3, 2 and 1, "kg/m³" its m³
                used.update(numbers_in(v))
                used.update(_words(v))
                said.update(_words(v))
    named_before = set().union(*(name_words(n) for n, _ in earlier)) if earlier else set()
    return used, said, named_before


def adds_to_earlier(name: str, arguments: Mapping[str, Any], earlier: Iterable[tuple[str, Mapping[str, Any]]],
                    facts: QueryFacts) -> bool:
    """Whether a call brings something from the query that the `earlier` calls (name,
    arguments) did not: a value the query states and no earlier call used, or a tool the
    query names ("...and also the mode") that no earlier call was made to."""
    earlier = list(earlier)
    used, said, named_before = _accounted(earlier)
    if any(_new_value(v, facts, used, said | named_before) for v in leaf_values(arguments)):
        return True
    if facts.case_distinct and (_case_forms([(name, arguments)]) & facts.case_distinct) - _case_forms(earlier):
        return True  # "Aa" after "AA"
    if name in {n for n, _ in earlier}:
        return _pairs_anew(name, arguments, earlier, facts)
    # "the displacement of a car at an initial speed of 20" names no speed tool: the
    # displacement call's initial_speed already accounts for "speed"; nor does "12 Amperes"
    # name an ampere tool once a call used the 12.
    return any(word_in(w, facts.words) and not word_in(w, said) and not _a_used_unit(w, facts, used)
               for w in name_words(name) - named_before)


def _values_by_tool(calls: Iterable[tuple[str, Mapping[str, Any]]]) -> dict[str, set[Any]]:
    """The whole values (_key) each tool was called with."""
    out: dict[str, set[Any]] = {}
    for name, args in calls:
        out.setdefault(name, set()).update(_key(v) for v in leaf_values(args))
    return out


def _pairs_anew(name: str, arguments: Mapping[str, Any], earlier: list[tuple[str, Mapping[str, Any]]],
                facts: QueryFacts) -> bool:
    """Whether a call to a tool called before takes the pair (QueryFacts.paired) of a value
    the tool took, which it did not take yet: gdp(1950) after gdp(1900) for "in 1900 and 1950"."""
    took = _values_by_tool(earlier).get(name, set())
    return any(facts.paired(v, w) for w in {_key(v) for v in leaf_values(arguments)} - took for v in took)


def _unpaired(facts: QueryFacts, earlier: list[tuple[str, Mapping[str, Any]]]) -> bool:
    """Whether a tool took a value but not its pair that another call took: after
    life_expectancy(1900), life_expectancy(1950), gdp(1900), the gdp of 1950 is asked for."""
    by_tool = _values_by_tool(earlier)
    everything = set().union(*by_tool.values()) if by_tool else set()
    return any(facts.paired(v, w) for took in by_tool.values() for w in everything - took for v in took)


# Words that name no value and no tool (function words, the verbs of asking): a query left
# with only these asks for nothing more.
_FUNCTION_WORDS = set("""a an the of in on at to for with and or by from as into about than then there this that
these those it its is are be was were been what which who whom whose how when where why my me i you your we our
us he she they them his her can could would should will shall may might must do does did please also given using
use some any each all both if so not no up out over under between per via respectively have has having had
much many more most less least very just only including within near through after before during since until
give provide obtain look tell show want need help like know let see whether""".split())
_NOT_TELLING = _FUNCTION_WORDS | _LINKS | _LIST_WORDS  # no frame of a value: "in Paris" and "in Lima" share none


def leaves_unused(facts: QueryFacts, earlier: Iterable[tuple[str, Mapping[str, Any]]],
                  tools: Mapping[str, Any]) -> bool:
    """Whether a further call could bring something the `earlier` calls (name, arguments)
    leave unused (the test of adds_to_earlier, looser): a number none of them used (in
    any reading: "5%" is used by 0.05; not an exponent, "m^3"), the pair of a value a tool
    took that only other calls took (_unpaired), a word the query also writes in another
    case that no call wrote so ("Aa" after "AA": QueryFacts.case_distinct), or a word that is no
    function word, that their values, parameter names, tool names and descriptions do not
    account for (nor is it a used number's unit, "5 meters", or the name of a used
    currency), and that one of `tools` (name -> Tool: those a further call may use) is
    named by, or could take as a text value where it reads as a value of its own
    (QueryFacts.reads_as_value: "Turkey" after the Egypt call; not "car" in "the speed of
    a car", which the one call served). When nothing is left ("the area of a triangle
    with base 10 and height 5" after the call with 10 and 5), asking the model for one
    call more would cost as much as the first. Words of one or two letters count only
    when written in capitals ("NY"): lowercase they are mostly units and contractions
    ("m/s", "what's")."""
    earlier = list(earlier)
    used, said, named_before = _accounted(earlier)
    accounted = used | said | named_before
    accounted |= currency_words(facts.text, {u.upper() for u in used if isinstance(u, str)})  # "Japanese Yen": JPY
    for name, _ in earlier:
        if name in tools:
            accounted.update(_words(tools[name].description))
    if any(not (r & used) for r in facts.values_written) or _unpaired(facts, earlier) or \
            facts.case_distinct and facts.case_distinct - _case_forms(earlier):
        return True
    # A word that starts with a digit ("6cm", "2nd") is a number, checked above.
    left = [w for w in facts.words if not w[0].isdigit() and (len(w) >= 3 or w in facts.capitals)
            and w not in _FUNCTION_WORDS and w not in _GENERIC and not word_in(w, accounted)
            and not _a_used_unit(w, facts, used)]
    if not left:
        return False
    if any(facts.reads_as_value(w, used) for w in left) and any(
            schema_has(t.parameters, _is_string) for t in tools.values()):
        return True
    called = {n for n, _ in earlier}
    return any(word_in(w, name_words(n)) for n in tools if n not in called for w in left)


# At most this many calls of one tool come from completing a grid (crossed).
MAX_CROSSED = 16


def crossed(facts: QueryFacts, calls: list[tuple[str, Mapping[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """The calls that complete a grid: where the calls of a tool differ in two or more
    arguments and the values each of them takes are listed together in the query
    (QueryFacts.paired: "the winning percentage of the Lakers and the Bulls in 2018 and
    2020"), the request is asked of every combination, and the 0.5B model pairs the lists
    off one to one (Lakers 2018, Bulls 2020). Returns the combinations no call makes, as
    (name, arguments) in order; none where the query pairs the values itself
    ("respectively"), or values are lists, objects or booleans (nothing a query lists)."""
    if "respectively" in facts.words:
        return []
    by_tool: dict[str, list[Mapping[str, Any]]] = {}
    for name, args in calls:
        by_tool.setdefault(name, []).append(args)
    out: list[tuple[str, dict[str, Any]]] = []
    for name, group in by_tool.items():
        if len(group) < 2 or any(set(a) != set(group[0]) for a in group):
            continue
        varied = {k: _distinct(a[k] for a in group) for k in group[0]}
        varied = {k: vs for k, vs in varied.items() if len(vs) > 1}
        if len(varied) < 2 or not all(_listed(facts, vs) for vs in varied.values()):
            continue
        made = list(group)
        combos = itertools.product(*varied.values())
        for combo in itertools.islice(combos, MAX_CROSSED):
            args = {**group[0], **dict(zip(varied, combo))}
            if args not in made:
                made.append(args)
                out.append((name, args))
    return out


def _distinct(values: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if v not in out:
            out.append(v)
    return out


def _listed(facts: QueryFacts, values: list[Any]) -> bool:
    """Whether each of `values` (text or numbers) is listed in the query with another of them."""
    return all(isinstance(v, (str, int, float)) and not isinstance(v, bool) for v in values) and \
        all(any(facts.paired(v, w) for w in values if w != v) for v in values)


def schema_has(schema: Any, test: Callable[[Mapping[str, Any]], bool]) -> bool:
    """Whether `test` holds for a JSON Schema or any schema nested in it (a parameter, a
    list's items, a field, an anyOf branch)."""
    if isinstance(schema, Mapping):
        return test(schema) or any(schema_has(v, test) for v in schema.values() if isinstance(v, (Mapping, list)))
    if isinstance(schema, list):
        return any(schema_has(v, test) for v in schema)
    return False


def _is_string(schema: Mapping[str, Any]) -> bool:
    kind = schema.get("type")
    return kind == "string" or (isinstance(kind, list) and "string" in kind)


def _a_used_unit(word: str, facts: QueryFacts, used: set[Any]) -> bool:
    forms = [f for f in (word, word + "s", word[:-1] if word.endswith("s") else "") if f in facts.words]
    return bool(forms) and all(facts.only_as_unit_of(f, used) for f in forms)


def _new_value(value: Any, facts: QueryFacts, used: set[Any], accounted: set[str]) -> bool:
    """A value the query states and no earlier call used. A string must also have a word of
    its own: one no earlier call's values, parameter names or tool name account for — after
    a sculpture_price call with material "marble", "Marble Sculpture" is no new request; after
    weight_earth_kg=70, planet "Earth" neither."""
    if not facts.states(value) or _key(value) in used:
        return False
    if isinstance(value, (int, float)) and facts.used_number(_number(value), used):  # 5 after 0.05 for "5%"
        return False
    if not isinstance(value, str):
        return True
    # "The Battle of Waterloo" after "Battle of Waterloo" is none: function words tell nothing
    words = [w for w in _words(value) if (len(w) >= 3 or w.isdigit()) and w not in _FUNCTION_WORDS]
    return not words or any(not word_in(w, used | accounted) for w in words)


def _inflected(stem: str, word: str) -> bool:
    """word is stem with a short ending ("child" -> "children"; not "seat" -> "seattle")."""
    return len(stem) >= 5 and word.startswith(stem) and len(word) - len(stem) <= 3


def _ly_form(noun: str, word: str) -> bool:
    """word is the -ly form of noun: "week" -> "weekly", "day" -> "daily" ("every week" says weekly)."""
    return len(noun) >= 3 and word in (noun + "ly", noun[:-1] + "ily")


def _clipped(short: str, word: str) -> bool:
    """short is a clipped form of word: "carbs" -> "carbohydrates", "info" -> "information"."""
    stem = short[:-1] if short.endswith("s") else short
    return len(stem) >= 4 and len(word) >= len(stem) + 3 and word.startswith(stem)


_PIECE = re.compile(r"\d+|[^\W\d_]+")  # "24h" -> "24", "h"
_SHORT_CAPITALS = re.compile(r"(?<![^\W_])[A-Z]{1,2}(?![^\W_])")  # "A", "J" of "J♥", "NY"


def _mentioned(value: Any, facts: QueryFacts) -> bool:
    """Looser than QueryFacts.states: a number the query writes (in digits or as a word up
    to twelve), or a string sharing a word with the query ("Disabled Access" for
    "facilities for disabled people"; "child" for "children"; "weekly" for "every week";
    "Carbohydrates" for "carbs"; "24h" for "24 hour"), or a word of one or two capitals
    the query writes in capitals too (the card "A", "NY"), or the US state of a city the
    query names ("California" for "in San Francisco"); ISO dates and times where the query
    tells a date or time in any way (QueryFacts.tells_time)."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, (int, float)):
        return facts.states(value) or facts.says_number(value)
    if not facts.english and re.search(r"[A-Za-z]", str(value)):
        return True  # perhaps a translation (QueryFacts.english)
    if ISO_DATE_TIME.fullmatch(str(value)):
        return facts.tells_time  # a conversion ("next Tuesday at 3pm") words cannot check
    if any(c.lower() in facts.capitals for c in _SHORT_CAPITALS.findall(str(value))):
        return True
    if state_code(str(value)) in facts.implied_states:
        return True
    for w in _words(str(value)):
        if _UNSPACED.search(w):
            if facts.has_word(w):
                return True
            continue
        for piece in ([w] if w.isdigit() or w.isalpha() else [w, *_PIECE.findall(w)]):
            if len(piece) < 3 and not piece.isdigit():
                continue
            if word_in(piece, facts.words) or any(_inflected(piece, q) or _inflected(q, piece) or
                                                  _ly_form(q, piece) or _clipped(q, piece) for q in facts.words):
                return True
    return False


def invented_number(value: Any, facts: QueryFacts) -> bool:
    """A number nothing in the conversation comes close to writing. Lenient, as it makes a
    call be given up: the sign may be left to words ("a loss of $1000" is -1000, "5x^2 - 7x"
    has b = -7), and 0 and ±1 go without saying ("from rest", "next month")."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    n = _number(value)
    if not isinstance(n, float) or abs(n) <= 1:
        return False
    return not (_mentioned(n, facts) or _mentioned(-n, facts))


# Measured quantities a user gives a number as ("a base of 10", "the width is 5m"), with
# the words that name the same one.
_QUANTITIES = [{"width", "breadth", "wide"}, {"length", "long"}, {"height", "tall", "high"}, {"base"},
               {"radius"}, {"diameter"}, {"depth", "deep"}, {"area"}, {"volume"}, {"weight", "mass", "heavy"},
               {"speed", "velocity"}, {"acceleration"}, {"distance", "displacement"}, {"temperature"},
               {"pressure"}, {"age", "old"}, {"price", "cost"}]
_QUANTITY_OF = {w: i for i, group in enumerate(_QUANTITIES) for w in group}


def _quantities(words: Iterable[str]) -> set[int]:
    """The measured quantities these words name (by their index in _QUANTITIES)."""
    return {_QUANTITY_OF[w] for w in words if w in _QUANTITY_OF}
_GIVEN_AS = re.compile(r"\b([a-z]+)\s+(?:is|of|=|:|equals)\s+(?:about\s+)?\$?(-?\d+(?:,\d{3})*(?:\.\d+)?)", re.I)


def misplaced_number(key: str, value: Any, facts: QueryFacts) -> bool:
    """A number the user gave as one quantity that the call gives a parameter for another:
    asked for a triangle's area with "the base is 10 meters and height is 5", the 0.5B
    model calls a BMI tool with weight=10. Only where the parameter's quantity is one the
    user never names (a parameter of no measured quantity, or one the user names as well,
    is let be)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    own = _quantities(_words(name_in_words(key)))
    if len(own) != 1 or own & _quantities(facts.words):
        return False
    n = _number(value)
    given = {_QUANTITY_OF.get(m.group(1).lower()) for m in _GIVEN_AS.finditer(facts.query)
             if _number(float(m.group(2).replace(",", ""))) == n}
    return bool(given) and None not in given and not given & own


def measures_another(name: str, parameters: Mapping[str, Any], description: str, facts: QueryFacts) -> bool:
    """Whether a tool whose name says what it measures (`calculate_park_area`) is called
    where the user asks for another measured quantity and never names the tool's own:
    asked for a sphere's volume given its radius, the 0.5B model calls a park's area tool.
    A quantity the user names that the tool takes or describes (radius) is no other one,
    and a query naming no quantity ("How big is the park?") is let be."""
    own, asked = _quantities(_words(name_in_words(name))), _quantities(facts.words)
    if not own or not asked or own & asked:
        return False
    # Its parameters' names, descriptions and options, and its description.
    known = name_in_words(json.dumps(parameters)) + " " + description
    return bool(asked - _quantities(_words(known)))


def doubled_value(values: Mapping[str, Any], facts: QueryFacts) -> bool:
    """Whether two of a call's arguments carry the same text, list or object where the
    user wrote it once: asked how often gene variant rs7412 occurs, the 0.5B model calls a
    trait tool with allele1 = allele2 = "rs7412"; asked for a triangle's sides 5 and 6, a
    map tool with pointA = pointB = {5, 6}. Each argument of a call says something of its
    own. Numbers alone are let be ("a square of side 5": width = height = 5)."""
    seen: dict[str, int] = {}
    for v in values.values():
        if isinstance(v, str) and len(v.strip()) < 2 or isinstance(v, (bool, int, float)) or v in ({}, [], None):
            continue
        key = json.dumps(v, sort_keys=True).lower()
        seen[key] = seen.get(key, 0) + 1
        if seen[key] > 1 and any(len(facts._spots(leaf)) < 2 for leaf in leaf_values(v)):
            return True
    return False


def invented_text(value: Any, facts: QueryFacts, description: str = "") -> bool:
    """A text nothing in the conversation says: none of its words but function words is
    the conversation's (of any length, "AA"; or a near form, as `_mentioned` reads it), it
    is no abbreviation (every word of three letters or fewer: "USD" for "US dollars",
    "km"), and the parameter's `description` does not name it as a choice or default
    ("Choices include: non-stop, direct"; an example, "e.g. 2020/2021", is no choice).
    Lenient, as it makes a call be given up (invented_number)."""
    if not isinstance(value, str) or ISO_DATE_TIME.fullmatch(value.strip()):
        return False
    words = [w for w in _words(value) if w not in _FUNCTION_WORDS]
    if not words or all(len(w) <= 3 and not w.isdigit() for w in words):
        return False
    if _mentioned(" ".join(words), facts) or any(w in facts.words for w in words):
        return False
    return not _named_in(_words(value), _words(description))


_EXAMPLE_WORDS = {"e", "g", "eg", "ex", "example", "such", "like"}


def _named_in(words: list[str], description: list[str]) -> bool:
    """Whether the description names these words other than as an example."""
    n = len(words)
    return any(description[i:i + n] == words and not _EXAMPLE_WORDS & set(description[max(0, i - 3):i])
               for i in range(len(description) - n + 1))


def is_default(parameters: Mapping[str, Any], key: str, value: Any) -> bool:
    """Whether `value` is the default the tool's schema declares for parameter `key`."""
    schema = (parameters.get("properties") or {}).get(key)
    return isinstance(schema, Mapping) and "default" in schema and schema["default"] == value


def _placeholder(key: str, value: Any, facts: QueryFacts) -> bool:
    """Whether a value is only its parameter's name and a number nobody said: asked for a
    game's rewards "with different missions and trophies", the 0.5B model writes
    `mission="Mission 1"`, `trophy="Trophy 1"`."""
    if not isinstance(value, str):
        return False
    words, own = _words(value), set(_words(name_in_words(key)))
    # isdecimal, not isdigit: "¹" is a digit float() cannot read
    numbers = [w for w in words if w.isdecimal()]
    rest = [w for w in words if not w.isdecimal()]
    return bool(numbers and rest) and all(word_in(w, own) for w in rest) and \
        not any(facts.states(float(n)) for n in numbers)


def _count_among_names(entry: Any, entries: list, counts: set) -> bool:
    """Whether a list entry is the number of another argument written as a name among
    names: "pasta with cheese for 2 servings" gives servings=2 and ingredients ["pasta",
    "cheese"], not ["pasta", "cheese", "2"]."""
    if not isinstance(entry, str) or _number_or_none(entry) not in counts:
        return False
    return any(isinstance(x, str) and _number_or_none(x) is None for x in entries)


def _number_or_none(text: str) -> Optional[float]:
    try:
        return float(text)
    except ValueError:
        return None


def grounded_arguments(arguments: Mapping[str, Any], parameters: Mapping[str, Any],
                       facts: QueryFacts) -> dict[str, Any]:
    """The arguments without what the user did not say. The 0.5B model fills optional
    parameters with plausible inventions ("frequency": "quarterly", a "title" for "a
    historical fiction book") and pads lists ("cuisine": ["Seafood", "Italian", ...] for
    "a seafood restaurant"): an optional argument none of whose values the query
    mentions is left to the tool's default (booleans and the schema's own default are
    kept), and list entries the query does not mention are dropped when others are. An
    object argument whose schema lists its properties is grounded the same way, by its
    own `required` (a device's settings: "run the air conditioner in air-clean mode"
    gets its mode, not a target temperature of 22 nobody gave). A list of names drops an
    entry that is only another argument's number (`_count_among_names`); a value that is
    only its parameter's name and a number nobody said is no mention (`_placeholder`)."""
    required = set(parameters.get("required") or [])
    properties = parameters.get("properties") or {}
    counts = {_number(v) for v in arguments.values() if isinstance(v, (int, float)) and not isinstance(v, bool)}
    out: dict[str, Any] = {}
    for key, value in arguments.items():
        given = value
        if isinstance(value, list) and value and all(isinstance(x, (str, int, float)) and not isinstance(x, bool)
                                                     for x in value):
            kept = [x for x in value if _mentioned(x, facts) and not _count_among_names(x, value, counts)]
            if kept:
                value = kept
        schema = properties.get(key)
        if isinstance(value, dict) and isinstance(schema, Mapping) and isinstance(schema.get("properties"), Mapping):
            value = grounded_arguments(value, schema, facts)
        if key not in required and not isinstance(value, bool) and not is_default(parameters, key, value):
            leaves = list(leaf_values(given))
            if leaves and not any(_mentioned(x, facts) and not _placeholder(key, x, facts) for x in leaves):
                continue
        out[key] = value
    return out


# Words a flag's name is made of that say it is a flag, not what it turns on
# ("include_history", "want_year", "with_verdict", "optional_param").
_FLAG_WORDS = {"is", "has", "with", "include", "includes", "get", "want", "show", "return", "use", "enable",
               "enabled", "allow", "need", "flag", "option", "optional", "param", "only", "add", "do", "should"}
# Words that turn a flag's feature down where they come before it in its clause ("I don't
# need the full text", "without considering human impact", "a less detailed description";
# not "no": "Case No 28473").
_DENIALS = {"not", "without", "never", "don", "doesn", "didn", "isn", "aren", "won", "less", "nor", "exclude",
            "excluding"}
_CLAUSE_END = re.compile(r"[.;:!?,](?:\s|$)|\n")


def _same_word(cue: str, word: str) -> bool:
    """word is cue in another form: a plural, an inflection or derivation ("detail":
    "detailed"; "standardize": "standardization"; "availability": "available"), or the
    clipped word it stands for ("stats": "statistics")."""
    if word == cue or word in _number_forms(cue) or _clipped(cue, word):
        return True
    common = len(os.path.commonprefix([cue, word]))
    return common >= 5 and common >= min(len(cue), len(word)) - 3


def _feature_spots(cue: list[str], clause: list[str]) -> list[int]:
    """Where a clause's words hold the cue's words in a row, in any form of them
    (`_same_word`), or run together ("multiplayer": "multi-player")."""
    n = len(cue)
    spots = [i for i in range(len(clause) - n + 1) if all(_same_word(c, w) for c, w in zip(cue, clause[i:i + n]))]
    if n == 1:
        spots += [i for i in range(len(clause) - 1) if clause[i] + clause[i + 1] == cue[0]]
    return spots


def _feature_phrases(description: str) -> list[list[str]]:
    """Three-word runs of a flag's description that tell what turning it on gives
    ("additional information like Director, Cast, Awards"): from its sentences that speak
    of neither the off state nor the default, runs with two telling words or more."""
    runs = []
    for sentence in re.split(r"(?<=[.;])\s+", description):
        words = _words(sentence)
        if {"false", "default", "defaults"} & set(words):
            continue
        runs += [words[i:i + 3] for i in range(len(words) - 2)
                 if sum(w not in _FUNCTION_WORDS and w not in _FLAG_WORDS for w in words[i:i + 3]) >= 2]
    return runs


def _flag_mentions(key: str, schema: Mapping[str, Any], text: str) -> Optional[tuple[list[tuple[int, bool]], int]]:
    """Where `text` names a boolean parameter's feature: (cue or run index, denied) for every
    place, and how many of the indexes are name words (the rest are description runs);
    None where the parameter's name and description tell no feature."""
    cues = [[w] for w in _words(name_in_words(key)) if w not in _FLAG_WORDS and len(w) >= 3]
    runs = _feature_phrases(str(schema.get("description") or ""))
    if not cues and not runs:
        return None
    clauses = [_words(c) for c in _CLAUSE_END.split(text)]
    return [(j, bool(_DENIALS & set(words[:i])))
            for j, cue in enumerate(cues + runs) for words in clauses for i in _feature_spots(cue, words)], len(cues)


def flag_asked(key: str, schema: Mapping[str, Any], query: str) -> Optional[bool]:
    """What the user says of a boolean parameter's feature: True where the query names it
    (every telling word of the parameter's name, "shortest route" for `shortest_route`,
    or a run of its description, "additional information like Director" for `extra_info`)
    and no denial comes before it in its clause; False where the query names it only so
    denied ("I don't need the full text") or not at all; None where it names it only in
    part, or the parameter's name and description tell no feature (`optional_param`
    whose description tells its default alone)."""
    return _asked(_flag_mentions(key, schema, query))


def _asked(mentions: Optional[tuple[list[tuple[int, bool]], int]]) -> Optional[bool]:
    """`flag_asked` from the flag's mentions (`_flag_mentions`)."""
    if mentions is None:
        return None
    named, n_cues = mentions
    if not named or all(denied for _, denied in named):
        return False
    found = {j for j, _ in named}
    every_cue = n_cues > 0 and found >= set(range(n_cues))
    return True if every_cue or any(j >= n_cues for j in found) else None  # j >= n_cues: a run


def call_parts(text: str, calls: Sequence[Mapping[str, Any]]) -> list[str]:
    """Per call (its arguments; calls of one tool), the clauses of `text` about it alone:
    those that hold a value only it has ("and between Los Angeles and San Francisco with the
    shortest route"), and the clauses after one that hold no call's value ("The first one has
    case number '12345'. I would also like the verdict details for this case."). "" for a
    call no clause is about alone."""
    values = [{" ".join(_words(str(v))) for v in leaf_values(args) if not isinstance(v, bool)} - {""}
              for args in calls]
    own = [v - set().union(*(values[j] for j in range(len(values)) if j != i)) for i, v in enumerate(values)]
    parts: list[list[str]] = [[] for _ in calls]
    owners: set[int] = set()
    for clause in (c for c in _CLAUSE_END.split(text) if c and c.strip()):
        said = padded_words(clause)
        holders = {i for i, vs in enumerate(own) if any(says(said, v) for v in vs)}
        owners = holders or owners  # a clause of no call's value goes on about the one before
        if len(owners) == 1:
            parts[next(iter(owners))].append(clause.strip())
    return [". ".join(p) for p in parts]


def flags_as_asked(arguments: Mapping[str, Any], parameters: Mapping[str, Any], query: str,
                   alone: bool = True, part: str = "") -> dict[str, Any]:
    """The arguments with their boolean flags as the user asked (`flag_asked`). The 0.5B
    model turns flags on nobody asked for (`availability=True` for "find a book") and
    leaves off those the user asked for by name ("the inventor and year of invention":
    `want_year=False`). A flag turned on that the query does not name, or names only to
    deny, is left to the tool's default (unless required); a flag the query names is turned
    on where this is the only call of its tool. Calls of one tool may each want it
    otherwise ("the verdict for the first case; the second without"): for such a call,
    `part` (`call_parts`) is what the query says of it alone, and a flag it names is turned
    on, one it names only to deny left to its default."""
    required = set(parameters.get("required") or [])
    out = dict(arguments)
    for key, schema in (parameters.get("properties") or {}).items():
        if not isinstance(schema, Mapping) or schema.get("type") != "boolean":
            continue
        asked, sole = flag_asked(key, schema, query), alone
        if part and not alone:
            mentions = _flag_mentions(key, schema, part)
            own = _asked(mentions)
            if own is True:
                asked, sole = True, True
            elif own is False and mentions[0]:  # named there, and only to deny it
                asked = False
        on_by_default = schema.get("default") in (True, "true")
        if asked is False and out.get(key) is True and key not in required and not on_by_default:
            del out[key]
        elif asked is True and sole and out.get(key) is not True and not (key not in out and on_by_default):
            out[key] = True
    return out
