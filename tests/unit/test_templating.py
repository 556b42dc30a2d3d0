"""The pages' templates (portal/templating.py): helpers called as Jinja calls any function,
templates loaded once and their compiled code kept per route table, fixed links written in
with the whitespace around them, and everything escaped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from jinja2 import Environment

from portal.templating import TemplateHelper, make_jinja


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
    """The condition written in for the root path is a block tag: it must not take the
    indentation before it (lstrip_blocks) or a line break after it (trim_blocks)."""
    (tmp_path / "page.html").write_text(
        "<ul>\n  {{ url_for('account') }}\n  <li>{{ url_for('account') }}</li>\n</ul>\n"
    )
    jinja = make_jinja(str(tmp_path), {"account": "/account"})
    page = jinja.get_template("page.html")
    # (Jinja drops a template's last line break, folded or not.)
    assert page.render(root_path="") == "<ul>\n  /account\n  <li>/account</li>\n</ul>"
    assert page.render(root_path="/p") == "<ul>\n  /p/account\n  <li>/p/account</li>\n</ul>"


def test_compiled_templates_are_kept_apart_for_different_route_tables(tmp_path: Path) -> None:
    """The compiled code kept for every environment (one per app) holds the routes' paths, so
    an app with other paths compiles its own."""
    (tmp_path / "page.html").write_text("{{ url_for('account') }}")
    first = make_jinja(str(tmp_path), {"account": "/account"})
    second = make_jinja(str(tmp_path), {"account": "/me"})
    assert first.get_template("page.html").render(root_path="") == "/account"
    assert second.get_template("page.html").render(root_path="") == "/me"


@pytest.mark.parametrize("name", ["page.html", "notice.txt", "feed.xml", "no_extension"])
def test_every_template_escapes_what_it_is_given_whatever_its_name(
    tmp_path: Path, name: str
) -> None:
    (tmp_path / name).write_text("{{ value }}")
    jinja = make_jinja(str(tmp_path), {})
    assert jinja.get_template(name).render(value="<b>'x'</b>") == "&lt;b&gt;&#39;x&#39;&lt;/b&gt;"
    assert jinja.from_string("{{ value }}").render(value="<i>") == "&lt;i&gt;"
