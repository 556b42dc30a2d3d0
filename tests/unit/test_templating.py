"""The pages' templates (portal/templating.py): helpers called as Jinja calls any function,
templates loaded once and their compiled code kept per route table, fixed links written in
with the whitespace around them, and everything escaped."""

from __future__ import annotations

import re
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest
from jinja2 import ChainableUndefined, Environment, FileSystemLoader, meta
from jinja2.compiler import CodeGenerator
from markupsafe import Markup, escape

from portal.app import TEMPLATES_DIR
from portal.templating import TemplateHelper, escaped_text, make_jinja


def test_templates_call_helpers_as_jinja_calls_any_function(tmp_path: Any) -> None:
    """Helpers (web.TemplateHelper) skip Jinja's look for context markers; what a template
    gets from them, in a loop, a block or a macro, is what the plain function gives, and
    functions asking for the context still get it."""
    from jinja2 import pass_context

    (tmp_path / "page.html").write_text(
        "{% macro link(n) %}{{ helper('m', n=n) }}{% endmacro %}"
        "{% for n in [1, 2] %}{{ helper('x', n=n) }}|{{ plain('x', n=n) }}|{{ link(n) }};"
        "{% endfor %}{{ asks('k') }}"
    )

    def path(name: str, **params: Any) -> str:
        return f"/{name}/{params.get('n', '')}"

    @pass_context
    def asks(context: Any, key: str) -> str:
        return str(context.get(key))

    jinja = make_jinja(str(tmp_path), {})
    text = jinja.get_template("page.html").render(
        helper=TemplateHelper(path), plain=path, asks=asks, k="from the context"
    )
    assert text == "/x/1|/x/1|/m/1;/x/2|/x/2|/m/2;from the context"


def test_a_template_is_loaded_once_and_kept_by_name(tmp_path: Any) -> None:
    """Without auto_reload a template is never looked at on disk again: the same one, by name,
    even once its file has changed (a new release restarts the server)."""
    (tmp_path / "page.html").write_text("{% include 'part.html' %}!")
    (tmp_path / "part.html").write_text("one")
    jinja = make_jinja(str(tmp_path), {})
    first = jinja.get_template("page.html")
    assert first.render() == "one!"
    (tmp_path / "part.html").write_text("two")
    assert jinja.get_template("page.html") is first
    assert first.render() == "one!"


def test_a_second_environment_reuses_compiled_templates_until_the_source_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "page.html").write_text("{{ 1 + 1 }} first")
    compiled: list[str] = []
    compile_for_real = Environment.compile

    def counting(self: Environment, source: str, *args: Any, **kwargs: Any) -> Any:
        compiled.append(source)
        return compile_for_real(self, source, *args, **kwargs)

    monkeypatch.setattr(Environment, "compile", counting)
    assert make_jinja(str(tmp_path), {}).get_template("page.html").render() == "2 first"
    assert make_jinja(str(tmp_path), {}).get_template("page.html").render() == "2 first"
    assert compiled == ["{{ 1 + 1 }} first"]  # once, though two environments loaded it

    (tmp_path / "page.html").write_text("{{ 2 + 2 }} second")
    assert make_jinja(str(tmp_path), {}).get_template("page.html").render() == "4 second"
    assert compiled == ["{{ 1 + 1 }} first", "{{ 2 + 2 }} second"]


def test_a_fixed_link_keeps_the_whitespace_around_it(tmp_path: Path) -> None:
    """A fixed link is plain text in its place: the indentation before it and the line break
    after it stay as they were around the call."""
    (tmp_path / "page.html").write_text(
        "<ul>\n  {{ url_for('account') }}\n  <li>{{ url_for('account') }}</li>\n</ul>\n"
    )
    jinja = make_jinja(str(tmp_path), {"account": "/account"})
    page = jinja.get_template("page.html")
    # (Jinja drops a template's last line break, folded or not.)
    assert page.render() == "<ul>\n  /account\n  <li>/account</li>\n</ul>"


def test_compiled_templates_are_kept_apart_for_different_route_tables(tmp_path: Path) -> None:
    """The compiled code kept for every environment (one per app) holds the routes' paths, so
    an app with other paths compiles its own."""
    (tmp_path / "page.html").write_text("{{ url_for('account') }}")
    first = make_jinja(str(tmp_path), {"account": "/account"})
    second = make_jinja(str(tmp_path), {"account": "/me"})
    assert first.get_template("page.html").render() == "/account"
    assert second.get_template("page.html").render() == "/me"


@pytest.mark.parametrize("name", ["page.html", "notice.txt", "feed.xml", "no_extension"])
def test_every_template_escapes_what_it_is_given_whatever_its_name(
    tmp_path: Path, name: str
) -> None:
    (tmp_path / name).write_text("{{ value }}")
    jinja = make_jinja(str(tmp_path), {})
    assert jinja.get_template(name).render(value="<b>'x'</b>") == "&lt;b&gt;&#39;x&#39;&lt;/b&gt;"
    assert jinja.from_string("{{ value }}").render(value="<i>") == "&lt;i&gt;"


class _Probe:
    """A value for every name a template reads: true or false, an attribute, item, call or
    sum of it another probe, a loop over it three probes (then none, deeper), so that one
    render walks every branch either way."""

    def __init__(self, truthy: bool, depth: int = 0) -> None:
        self.truthy = truthy
        self.depth = depth

    def _next(self, *_args: Any, **_kwargs: Any) -> _Probe:
        return _Probe(self.truthy, self.depth + 1)

    def __getattr__(self, name: str) -> _Probe:
        if name.startswith("__"):
            raise AttributeError(name)
        return self._next()

    __getitem__ = __call__ = __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = _next
    __truediv__ = __floordiv__ = __mod__ = _next

    def __iter__(self) -> Any:
        return iter([self._next() for _ in range(3)] if self.truthy and self.depth < 3 else [])

    def __bool__(self) -> bool:
        return self.truthy and self.depth < 6

    def __len__(self) -> int:
        return 3 if self.truthy else 0

    def __gt__(self, other: object) -> bool:
        return self.truthy

    __lt__ = __ge__ = __le__ = __gt__
    __hash__ = object.__hash__

    def __index__(self) -> int:
        return 3

    def __str__(self) -> str:
        return f"<probe {self.depth}>"  # escaped: the same either way

    __repr__ = __str__


def _jinjas_own_way(templates_dir: Path) -> Environment:
    """The portal's environment for ``templates_dir`` with Jinja's own loader and code
    generator: every include left to Jinja, every piece of output its own ``yield`` (and no
    compiled code shared with the portal's)."""
    jinja = make_jinja(str(templates_dir), {})
    jinja.loader = FileSystemLoader(str(templates_dir))
    jinja.code_generator_class = CodeGenerator
    jinja.bytecode_cache = None
    return jinja


def _probing(jinja: Environment) -> Environment:
    jinja.undefined = ChainableUndefined
    for filter_name in ("tojson", "day", "short_day", "day_and_time", "time_of_day"):
        jinja.filters[filter_name] = lambda value, *_a, **_k: f"[{value}]"
    return jinja


@pytest.mark.parametrize("truthy", [True, False])
def test_every_template_renders_the_same_with_partials_written_in_and_output_joined(
    truthy: bool,
) -> None:
    """Each of the portal's templates, rendered with every name any template reads a probe
    (every condition true and every list three long, or everything false and empty), gives
    exactly what it gives with Jinja's own includes and code generator: text, whitespace and
    escaping."""
    written_in = _probing(make_jinja(str(TEMPLATES_DIR), {}))
    jinjas_own = _probing(_jinjas_own_way(TEMPLATES_DIR))
    names = sorted(str(path.relative_to(TEMPLATES_DIR)) for path in TEMPLATES_DIR.rglob("*.html"))
    assert len(names) > 100
    read: set[str] = set()
    for name in names:
        read |= meta.find_undeclared_variables(jinjas_own.parse((TEMPLATES_DIR / name).read_text()))
    context: dict[str, Any] = {variable: _Probe(truthy) for variable in read}
    context.update(
        url_for=TemplateHelper(lambda route, **params: f"/{route}/{params}"),
        static=TemplateHelper(lambda path: f"/static/{path}"),
    )
    for name in names:
        ours = written_in.get_template(name).render(context)
        assert ours == jinjas_own.get_template(name).render(context), name


def test_most_includes_are_written_in_and_the_rest_left_to_jinja() -> None:
    jinja = make_jinja(str(TEMPLATES_DIR), {})
    loader = jinja.loader
    assert isinstance(loader, FileSystemLoader)
    included = left = 0
    for path in TEMPLATES_DIR.rglob("*.html"):
        name = str(path.relative_to(TEMPLATES_DIR))
        included += path.read_text().count("{% include ")
        left += loader.get_source(jinja, name)[0].count("{% include ")
    assert included > 90
    assert left < included / 2
    # The account page's QR partial is written in: no include left there.
    assert "include" not in loader.get_source(jinja, "accounts/account.html")[0]


def _both_ways(tmp_path: Path, templates: dict[str, str], **context: Any) -> tuple[str, str]:
    for name, text in templates.items():
        (tmp_path / name).write_text(text)
    return (
        make_jinja(str(tmp_path), {}).get_template("page.html").render(context),
        _jinjas_own_way(tmp_path).get_template("page.html").render(context),
    )


def test_a_written_in_partial_keeps_every_line_break_and_indent(tmp_path: Path) -> None:
    page = (
        '<ul>\n  {% include "item.html" %}\n  <li>after</li>\n'
        "{%- include \"item.html\" -%}\n  x {% include 'item.html' %}y\n</ul>\n"
    )
    item = "  {% if on %}\n  <li>{{ name }}</li>\n  {% endif %}\n{# a comment #}\n<b>{{ n }}</b>\n"
    ours, jinjas = _both_ways(
        tmp_path, {"page.html": page, "item.html": item}, on=1, name="<a>", n=2
    )
    assert ours == jinjas
    assert "<li>&lt;a&gt;</li>" in ours


def test_partials_with_their_own_scope_or_template_names_stay_includes(tmp_path: Path) -> None:
    """A partial that sets a name, defines a macro or names ``self`` is left to Jinja (the
    name set stays the partial's); nested plain partials are written in; an include in a
    comment or a raw block is left as it is; a partial including itself stops."""
    templates = {
        "page.html": (
            "{% set x = 'page' %}{% include 'sets.html' %}{{ x }}|{% include 'macro.html' %}|"
            "{% include 'self.html' %}|{% include 'outer.html' %}|{# {% include 'inner.html' %} #}"
            "{% raw %}{% include 'inner.html' %}{% endraw %}|{% include 'loop.html' %}"
        ),
        "sets.html": "{% set x = 'partial' %}{{ x }}",
        "macro.html": "{% macro m() %}m{% endmacro %}{{ m() }}",
        "self.html": "{{ self }}",
        "outer.html": "[{% include 'inner.html' %}]",
        "inner.html": "{{ x }}",
        "loop.html": "{% if depth %}{% include 'loop.html' %}{% endif %}end",
    }
    ours, jinjas = _both_ways(tmp_path, templates, depth=0)
    assert ours == jinjas
    assert ours.startswith("partialpage|m|")
    jinja = make_jinja(str(tmp_path), {})
    source = jinja.loader.get_source(jinja, "page.html")[0]  # type: ignore[union-attr]
    for kept in ("sets.html", "macro.html", "self.html"):
        assert f"{{% include '{kept}' %}}" in source
    assert "outer.html" not in source
    assert source.count("{% include 'inner.html' %}") == 2  # the comment's and the raw block's
    assert source.count("{% include 'loop.html' %}") == 1  # written in once, then left


def test_templates_write_text_beyond_ascii_as_entities() -> None:
    """A page whose text is all ASCII is encoded for the response as one copy; a single
    ``·`` made Python encode every character of it one by one (a twentieth of ``/account``).
    So templates write ``&middot;``, ``&hellip;``, ``&ldquo;``... (the browser shows the same)."""
    tags = re.compile(r"(\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\})", re.DOTALL)
    found = []
    for path in sorted(TEMPLATES_DIR.rglob("*.html")):
        for text in tags.split(path.read_text())[::2]:  # what lies between tags and comments
            found += [(path.name, char) for char in text if not char.isascii()]
    assert found == []


def test_an_output_of_several_pieces_is_yielded_as_one(tmp_path: Path) -> None:
    jinja = make_jinja(str(tmp_path), {})
    code = jinja.compile(
        "<li>{{ a }} and {{ b }}</li>{% if a %}<p>{{ a }}</p>{% endif %}", raw=True
    )
    yields = [line.strip() for line in code.splitlines() if "yield " in line]
    # Jinja's own marker that the function is a generator, then the two outputs.
    assert yields == ["if 0: yield None", "yield concat((", "yield concat(("]
    assert jinja.compile("{{ a }}", raw=True).count("yield concat") == 0


def test_joined_output_renders_as_jinja_does_in_blocks_sets_macros_filters_and_extends(
    tmp_path: Path,
) -> None:
    """Outputs in captured text (a set block, a macro, a call block, a filter block), in a
    child template's blocks (and its text outside them, dropped), in a conditional extends,
    and in loops: the same text as Jinja's own code generator gives."""
    templates = {
        "base.html": "<h1>{{ title }}</h1>{% block main %}base {{ title }}{% endblock %}<p>end</p>",
        "page.html": (
            "{% if wrap %}{% extends 'base.html' %}{% endif %}"
            "outside {{ title }} {{ items|length }}"
            "{% macro row(x) %}<td>{{ x }} / {{ caller() if caller else '' }}</td>{% endmacro %}"
            "{% block main %}{% set caught %}<b>{{ title }}</b> {{ items[0] }}{% endset %}"
            "{{ caught }} {{ super() if wrap else 'alone' }}"
            "{% for item in items %}<i>{{ loop.index }}: {{ item }}</i>{% endfor %}"
            "{% call row(title) %}called {{ items[1] }}{% endcall %}"
            "{% filter upper %}low {{ title }} case{% endfilter %}{% endblock %}"
        ),
    }
    for wrap in (True, False):
        ours, jinjas = _both_ways(
            tmp_path, templates, title="<T & 'x'>", items=["a<", "b>"], wrap=wrap
        )
        assert ours == jinjas
        assert ("<h1>" in ours) is wrap


def test_an_error_in_a_joined_output_is_raised_as_in_jinjas(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("<p>{{ first() }} {{ 1 // zero }}</p>")
    called: list[str] = []

    def first() -> str:
        called.append("first")
        return "one"

    for jinja in (make_jinja(str(tmp_path), {}), _jinjas_own_way(tmp_path)):
        with pytest.raises(ZeroDivisionError):
            jinja.get_template("page.html").render(first=first, zero=0)
    assert called == ["first", "first"]


class _Html:
    def __html__(self) -> str:
        return "<b>kept</b>"


class _Named(StrEnum):
    QUOTED = '"it\'s" <a&b>'


def test_escaped_text_is_markupsafes_escape_as_plain_text() -> None:
    strings = [
        "",
        "plain",
        "<script>alert('x' & \"y\")</script>",
        "&amp; already",
        "".join(chr(code) for code in range(32, 127)),
        "Zoë \u2014 \U0001f600 <é>",
        "'" * 5 + '"' * 5,
        # Each character to escape alone in a string (the test for nothing to escape looks for
        # each one in turn).
        *(f"before {special} after" for special in "&<>'\""),
    ]
    for value in strings:
        text = escaped_text(value)
        assert text == str(escape(value))
        assert type(text) is str
    for other in (Markup("<i>made safe</i>"), _Html(), 42, None, _Named.QUOTED):
        assert escaped_text(other) == escape(other)


def test_compiled_output_escapes_with_escaped_text(tmp_path: Path) -> None:
    jinja = make_jinja(str(tmp_path), {})
    code = jinja.compile("<p>{{ a }} {{ b }}</p>{{ c }}", raw=True)
    assert code.count("environment.escaped_text(") == 3
    assert "escape(" not in code.replace("escaped_text(", "")
    rendered = jinja.from_string("<p>{{ a }} {{ b }}</p>{{ c }}").render(
        a="<&>", b=Markup("<i>"), c=_Named.QUOTED
    )
    assert rendered == "<p>&lt;&amp;&gt; <i></p>&#34;it&#39;s&#34; &lt;a&amp;b&gt;"
