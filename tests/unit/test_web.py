"""Route lookups of the request boundary (portal/web.py) give Starlette's answers: the paths
``url_for`` builds (kept per name and parameters, or written into templates when they are
fixed) and the route a request reaches (each fixed path's candidate routes found once)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from jinja2 import Environment
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Match, NoMatchFound, Route

from portal.web import (
    AppState,
    IndexedRouter,
    RoutePaths,
    TemplateHelper,
    make_jinja,
    render_template,
    url_path,
)

# A value for each kind of path parameter the route table uses.
_SAMPLES: dict[str, Any] = {"str": "a1b2-c3", "int": 7, "path": "js/main.js", "uuid": None}


def _request(app: Starlette, root_path: str = "", path: str = "/", method: str = "GET") -> Request:
    return Request(
        {
            "type": "http",
            "method": method,
            "path": root_path + path,
            "root_path": root_path,
            "query_string": b"",
            "headers": [(b"host", b"testserver")],
            "server": ("testserver", 80),
            "scheme": "http",
            "app": app,
            "router": app.router,
        }
    )


def _params(route: Route) -> dict[str, Any]:
    params = {}
    for name, convertor in route.param_convertors.items():
        kind = type(convertor).__name__.removesuffix("Convertor").lower()
        params[name] = _SAMPLES.get(kind, "x") or "3f1c1d2e-8d4b-4c1a-9a57-0f4f7e5b2a10"
    return params


@pytest.mark.parametrize("root_path", ["", "/portal"])
def test_url_for_gives_starlettes_path_for_every_route_again_and_again(
    app: Starlette, root_path: str
) -> None:
    request = _request(app, root_path)
    names = 0
    for route in app.routes:
        if not isinstance(route, Route):
            continue
        params = _params(route)
        expected = request.url_for(route.name, **params).path
        for _ in range(2):  # worked out, then kept
            assert url_path(request, route.name, **params) == expected, route.name
        names += 1
    assert names > 100
    # In a Mount: Starlette's own lookup, root path included.
    assert url_path(request, "static", path="css/portal.css") == (
        request.url_for("static", path="css/portal.css").path
    )


def test_paths_kept_are_bounded_and_only_for_plain_strings(app: Starlette) -> None:
    paths = RoutePaths(app)
    paths.KEPT = 3
    request = _request(app)
    case_ids = [f"case-{n}" for n in range(6)]
    for case_id in case_ids:
        assert paths.path(request, "case_page", {"case_id": case_id}) == f"/cases/{case_id}"
    assert len(paths._paths) == 3
    # 1, True and 1.0 are one dict key but three paths: none of them is kept.
    assert [paths.path(request, "case_page", {"case_id": v}) for v in (1, True, 1.0)] == [
        "/cases/1",
        "/cases/True",
        "/cases/1.0",
    ]

    class Unhashable(str):
        __hash__ = None  # type: ignore[assignment]  # what a dict key cannot be

    value = Unhashable("case-9")
    assert paths.path(request, "case_page", {"case_id": value}) == "/cases/case-9"


def test_each_fixed_paths_candidates_reach_the_route_starlette_reaches(app: Starlette) -> None:
    """For every fixed path and method: the routes left out of its candidates never match it,
    so the first full match among the candidates is Starlette's first full match."""
    router = app.router
    assert isinstance(router, IndexedRouter)
    checked = 0
    for path, candidates in router._by_path.items():
        for method in ("GET", "POST", "PUT", "DELETE"):
            scope = _request(app, path=path, method=method).scope
            matches = [(route, route.matches(scope)[0]) for route in router.routes]
            for route, match in matches:
                if route not in candidates:
                    assert match is Match.NONE, (path, method, route)
            first_full = next((r for r, m in matches if m is Match.FULL), None)
            among = next((r for r in candidates if r.matches(scope)[0] is Match.FULL), None)
            assert among is first_full
            checked += 1
    assert checked > 200
    assert router._by_path["/account"][0].name == "account"  # type: ignore[attr-defined]


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


@pytest.mark.parametrize("root_path", ["", "/portal"])
def test_templates_url_for_gives_starlettes_path_for_every_route(
    app: Starlette, root_path: str
) -> None:
    """Templates' ``url_for`` (RoutePaths.helper_for): one helper made once for requests at the
    root, one of its own under a root path; the same paths as Starlette's either way."""
    request = _request(app, root_path)
    paths: RoutePaths = app.state.route_paths
    helper = paths.helper_for(request)
    assert (helper is paths.helper_for(_request(app, root_path))) == (root_path == "")
    for route in app.routes:
        if isinstance(route, Route):
            params = _params(route)
            assert helper(route.name, **params) == request.url_for(route.name, **params).path


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


def _render_as_pages_do(jinja: Environment, request: Request, template: str) -> str:
    """``template`` rendered by web.render_template, as every page is."""
    state = SimpleNamespace(
        jinja=jinja,
        route_paths=request.app.state.route_paths,
        settings=SimpleNamespace(quick_exit_url="https://example.org/", session_warning_seconds=1),
    )
    return render_template(cast(AppState, state), request, template)


@pytest.mark.parametrize("root_path", ["", "/portal"])
def test_fixed_links_written_in_at_compile_time_give_starlettes_paths(
    app: Starlette, root_path: str, tmp_path: Path
) -> None:
    """``{{ url_for('name') }}`` of every route without parameters, and ``{{ static(...) }}``,
    are written into the compiled template (no call at render) and render as the helpers do,
    at the root and below a root path."""
    paths: RoutePaths = app.state.route_paths
    fixed = paths.fixed_paths()
    assert len(fixed) > 50
    assert "case_page" not in fixed
    names = sorted(fixed)
    (tmp_path / "links.html").write_text(
        "".join(f"<a href=\"{{{{ url_for('{name}') }}}}\">" for name in names)
        + "<link href=\"{{ static('css/portal.css') }}\">"
    )
    jinja = make_jinja(str(tmp_path), fixed)
    source = (tmp_path / "links.html").read_text()
    compiled = jinja.compile(source, raw=True)
    assert "url_for" not in compiled
    assert "static" not in compiled.replace("/static/", "")

    request = _request(app, root_path)
    expected = "".join(f'<a href="{request.url_for(name).path}">' for name in names)
    expected += f'<link href="{_request(app).url_for("static", path="css/portal.css").path}">'
    assert _render_as_pages_do(jinja, request, "links.html") == expected


def test_links_with_parameters_or_unknown_names_are_still_called_at_render(
    app: Starlette, tmp_path: Path
) -> None:
    paths: RoutePaths = app.state.route_paths
    (tmp_path / "case.html").write_text(
        "{{ url_for('case_page', case_id=case_id) }} {{ url_for(\"account\") }}"
    )
    (tmp_path / "unknown.html").write_text("{{ url_for('no_such_route') }}")
    jinja = make_jinja(str(tmp_path), paths.fixed_paths())
    assert "url_for" in jinja.compile((tmp_path / "case.html").read_text(), raw=True)
    text = jinja.get_template("case.html").render(
        url_for=paths.helper_for(_request(app)), case_id="c-1", root_path=""
    )
    assert text == "/cases/c-1 /account"
    with pytest.raises(NoMatchFound):
        _render_as_pages_do(jinja, _request(app), "unknown.html")


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
