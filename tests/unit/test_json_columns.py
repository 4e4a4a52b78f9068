"""JSON columns are read back by msgspec's decoder, with the values ``json.loads`` would give."""

from __future__ import annotations

import json

from hypothesis import given, settings, strategies as st

from store.db import _json_loads

values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
              st.floats(allow_nan=False, allow_infinity=False), st.text()),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.text(max_size=8), children, max_size=4)),
    max_leaves=25,
)


@settings(max_examples=300, deadline=None)
@given(value=values, ascii_only=st.booleans())
def test_every_json_document_reads_as_json_loads_reads_it(value, ascii_only):
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert _json_loads(text) == json.loads(text)
    assert _json_loads(text.encode("utf-8", "surrogatepass")) == json.loads(text)


def test_what_msgspec_refuses_is_read_as_before():
    for text in ['{"b": 1e400}', '{"s": "\\ud800"}', '[-1e999]']:
        assert repr(_json_loads(text)) == repr(json.loads(text))
