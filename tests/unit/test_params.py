"""protocol.params: the per-action plans give the answers the plain declarations give."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from stsd.actions.base import registry
from stsd.protocol.params import Str, StrList, Struct, StructList, _check_str, _Problems, _quick_check


def _every_str_spec() -> list[Str]:
    found: dict[int, Str] = {}
    for actions in registry().values():
        for action in actions.values():
            for spec in action.params:
                if isinstance(spec, Str):
                    found[id(spec)] = spec
                elif isinstance(spec, StrList):
                    found[id(spec.item)] = spec.item
                elif isinstance(spec, StructList | Struct):
                    found.update((id(f), f) for f in spec.fields)
    return list(found.values())


SPECS = _every_str_spec()
# Short and long, ASCII and not, near the usual patterns' edges.
values = st.text(max_size=70) | st.text(alphabet="aZ09_+=,.@-:/ \t%é\u00a0\U0001f600", max_size=70) | st.sampled_from(
    ["", "x", "true", "Active", "arn:aws:iam::123456789012:role/r", "x" * 2049, "a" * 129]
)


def test_every_declaration_is_covered() -> None:
    assert len(SPECS) > 100
    assert any(spec.choices for spec in SPECS) and any(spec.check for spec in SPECS)


@given(st.sampled_from(SPECS), values)
def test_quick_check_passes_exactly_what_check_str_passes(spec: Str, value: str) -> None:
    problems = _Problems()
    _check_str(spec, value, spec.member, problems)
    assert _quick_check(spec)(value) is (not problems.items)


def _edge_values(spec: Str) -> list[str]:
    bounds = [bound for bound in (spec.min, spec.max) if bound is not None]
    lengths = {n for bound in bounds for n in (bound - 1, bound, bound + 1) if n >= 0}
    return ["", "a", "-", "é", "a b", *(spec.choices or ()), *("a" * n for n in lengths), *("é" * n for n in lengths)]


def test_quick_check_agrees_at_every_declarations_edges() -> None:
    for spec in SPECS:
        quick = _quick_check(spec)
        for value in _edge_values(spec):
            problems = _Problems()
            _check_str(spec, value, spec.member, problems)
            assert quick(value) is (not problems.items), (spec, value)
