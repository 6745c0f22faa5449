"""Hypothesis strategies for random JSON Schemas from the grammar engine's supported set
(generation mode: see native/include/edgeagent/grammar.h, Grammar::from_json_schema)."""

from __future__ import annotations

from hypothesis import strategies as st

# Property names, including ones that need escaping in JSON and ones that are keywords.
PROPERTY_NAMES = ["a", "b", "id", "name", "x_y", "value", "ü", "with space", 'q"uote', "back\\slash",
                  "tab\there", "emoji😀", "0", "type", "$ref", "enum", ""]

# Patterns with an unambiguous meaning in ECMA-262, Python `re` and the engine's subset.
# (pattern has search semantics: unanchored ones may match anywhere.)
PATTERNS = [
    r"^[a-z]+$",
    r"^[0-9]{3}-[0-9]{4}$",
    r"^(foo|bar)+$",
    r"^\d{2,4}$",
    r"^[A-Z][a-z]*$",
    r"^[a-f0-9]{8}$",
    r"^a*b?c+$",
    r"^(ab|cd){1,3}x?$",
    r"^\w+@\w+\.com$",
    r"^[^\s]{1,5}$",
    r"^.{0,3}$",
    r"^é+ñ?$",
    r"x",
    r"[0-9]",
    r"^abc",
    r"z$",
    r"^(?:[a-c]|[x-z])*$",
]

FORMATS = ["date", "uuid", "email"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-10**6, 10**6),
    st.sampled_from([0.5, -2.25, 1e10, 3.0]),
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=6),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=3),
                            st.dictionaries(st.sampled_from(PROPERTY_NAMES[:8]), inner, max_size=3)),
    max_leaves=6,
)


@st.composite
def integer_schema(draw):
    s = {"type": "integer"}
    big = draw(st.booleans())
    bound = st.integers(-(10**12), 10**12) if big else st.integers(-1000, 1000)
    lo = draw(st.none() | bound)
    hi = draw(st.none() | bound)
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    exclusive_lo, exclusive_hi = draw(st.booleans()), draw(st.booleans())
    if lo is not None and hi is not None and exclusive_lo and exclusive_hi and hi - lo < 2:
        hi = lo + 2
    if lo is not None:
        s["exclusiveMinimum" if exclusive_lo else "minimum"] = lo
    if hi is not None:
        s["exclusiveMaximum" if exclusive_hi else "maximum"] = hi
    return s


@st.composite
def number_schema(draw):
    s = {"type": "number"}
    # Only integer-valued bounds are supported for non-integer numbers.
    lo = draw(st.none() | st.integers(-100, 100))
    hi = draw(st.none() | st.integers(-100, 100))
    if lo is not None and hi is not None and lo > hi:
        lo, hi = hi, lo
    if lo is not None:
        s["minimum"] = lo
    if hi is not None:
        s["maximum"] = hi
    return s


@st.composite
def string_schema(draw):
    kind = draw(st.sampled_from(["plain", "length", "pattern", "format", "enum", "const"]))
    s = {"type": "string"}
    if kind == "length":
        lo = draw(st.none() | st.integers(0, 6))
        hi = draw(st.none() | st.integers(0, 10))
        if lo is not None and hi is not None and lo > hi:
            lo, hi = hi, lo
        if lo is not None:
            s["minLength"] = lo
        if hi is not None:
            s["maxLength"] = hi
    elif kind == "pattern":
        s["pattern"] = draw(st.sampled_from(PATTERNS))
    elif kind == "format":
        s["format"] = draw(st.sampled_from(FORMATS))
    elif kind == "enum":
        s["enum"] = draw(st.lists(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=5),
                                  min_size=1, max_size=5, unique=True))
        if draw(st.booleans()):
            del s["type"]
    elif kind == "const":
        s["const"] = draw(st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=6))
    return s


leaf_schemas = st.one_of(
    st.just({"type": "boolean"}),
    st.just({"type": "null"}),
    integer_schema(),
    number_schema(),
    string_schema(),
    st.lists(json_values, min_size=1, max_size=5, unique_by=lambda v: repr(v)).map(lambda e: {"enum": e}),
    json_values.map(lambda v: {"const": v}),
    st.sampled_from([["string", "null"], ["integer", "string"], ["boolean", "number"], ["null", "array"],
                     ["object", "null"]]).map(lambda t: {"type": t}),
    st.just({"type": ["integer", "string"], "minimum": 3, "maxLength": 4}),
    st.just({}),  # any JSON value
)


def _extend(children):
    @st.composite
    def obj(draw):
        names = draw(st.lists(st.sampled_from(PROPERTY_NAMES), max_size=4, unique=True))
        props = {n: draw(children) for n in names}
        s = {"type": "object", "properties": props}
        req = [n for n in names if draw(st.booleans())]
        if req:
            s["required"] = req
        extra = draw(st.sampled_from([None, None, None, False, True, "schema"]))
        if extra == "schema":
            s["additionalProperties"] = draw(leaf_schemas)
        elif extra is not None:
            s["additionalProperties"] = extra
        return s

    @st.composite
    def arr(draw):
        s = {"type": "array"}
        if draw(st.booleans()):
            s["prefixItems"] = draw(st.lists(children, min_size=1, max_size=2))
        if draw(st.integers(0, 3)):
            s["items"] = draw(children)
        lo = draw(st.none() | st.integers(0, 3))
        hi = draw(st.none() | st.integers(0, 4))
        if lo is not None and hi is not None and lo > hi:
            lo, hi = hi, lo
        if lo is not None:
            s["minItems"] = lo
        if hi is not None:
            s["maxItems"] = hi
        return s

    any_of = st.lists(children, min_size=2, max_size=3).map(lambda xs: {"anyOf": xs})
    return st.one_of(obj(), arr(), any_of)


schema_bodies = st.recursive(leaf_schemas, _extend, max_leaves=10)

# A recursive definition with a base case (optional children, bounded arrays).
TREE_DEF = {"type": "object", "properties": {"v": {"type": "integer"},
                                             "kids": {"type": "array", "items": {"$ref": "#/$defs/tree"},
                                                      "maxItems": 2}},
            "required": ["v"]}
LIST_DEF = {"anyOf": [{"type": "null"},
                      {"type": "object", "properties": {"head": {"type": "string", "maxLength": 3},
                                                        "tail": {"$ref": "#/$defs/list"}},
                       "required": ["head", "tail"]}]}


@st.composite
def schemas(draw):
    """A root schema, sometimes with $defs (nested references, and recursion with a base case)."""
    if not draw(st.integers(0, 2)):
        return draw(schema_bodies)
    defs = {}
    n = draw(st.integers(1, 3))
    for i in range(n):
        ref_to_previous = [{"$ref": f"#/$defs/d{j}"} for j in range(i)]
        if ref_to_previous and draw(st.booleans()):
            defs[f"d{i}"] = {"type": "array", "items": draw(st.sampled_from(ref_to_previous)), "maxItems": 3}
        else:
            defs[f"d{i}"] = draw(schema_bodies)
    if draw(st.booleans()):
        defs["tree"] = TREE_DEF
    if draw(st.booleans()):
        defs["list"] = LIST_DEF
    refs = [{"$ref": f"#/$defs/{k}"} for k in defs]
    names = draw(st.lists(st.sampled_from(PROPERTY_NAMES[:6]), min_size=1, max_size=3, unique=True))
    root = {"type": "object", "properties": {n: draw(st.sampled_from(refs)) for n in names},
            "required": names[:1], "$defs": defs}
    if draw(st.booleans()):
        root = {"$defs": defs, "anyOf": [draw(st.sampled_from(refs)), root["properties"][names[0]],
                                         {"type": "array", "items": draw(st.sampled_from(refs))}]}
    return root
