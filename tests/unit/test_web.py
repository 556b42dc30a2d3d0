"""Route lookups of the request boundary (portal/web.py) give Starlette's answers: the paths
``url_for`` builds (kept per name and parameters, or written into templates when they are
fixed) and the route a request reaches (each fixed path's candidate routes found once)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Match, NoMatchFound, Route
from starlette.testclient import TestClient

from portal.templating import make_jinja
from portal.web import (
    AppState,
    EndpointRoute,
    IndexedRouter,
    RoutePaths,
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


def _render_as_pages_do(
    templates_dir: Path, request: Request, template: str, fixed_paths: dict[str, str]
) -> str:
    """``template`` rendered by web.render_template, as every page is (the app's way: fixed
    links written in for requests at the root, called below a root path)."""
    state = SimpleNamespace(
        jinja=make_jinja(str(templates_dir), fixed_paths),
        jinja_below_root=lambda: make_jinja(str(templates_dir), {}),
        route_paths=request.app.state.route_paths,
        settings=SimpleNamespace(quick_exit_url="https://example.org/", session_warning_seconds=1),
    )
    return render_template(cast(AppState, state), request, template)


@pytest.mark.parametrize("root_path", ["", "/portal"])
def test_fixed_links_written_in_at_compile_time_give_starlettes_paths(
    app: Starlette, root_path: str, tmp_path: Path
) -> None:
    """``{{ url_for('name') }}`` of every route without parameters, and ``{{ static(...) }}``,
    are written into the compiled template (no call at render) and pages render them as the
    helpers do, at the root and (with templates that call url_for) below a root path."""
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
    assert _render_as_pages_do(tmp_path, request, "links.html", fixed) == expected


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
        url_for=paths.helper_for(_request(app)), case_id="c-1"
    )
    assert text == "/cases/c-1 /account"
    with pytest.raises(NoMatchFound):
        _render_as_pages_do(tmp_path, _request(app), "unknown.html", paths.fixed_paths())


def test_endpoint_routes_hand_an_endpoints_exceptions_to_the_apps_handlers() -> None:
    """Without Starlette's per-route wrapper, what an endpoint raises still reaches the app's
    handlers: an HTTPException its status handler, anything else the handler for Exception
    (a 500 page); a synchronous endpoint keeps Starlette's own wrapping (a thread)."""

    async def teapot(request: Request) -> Response:
        raise HTTPException(418)

    async def broken(request: Request) -> Response:
        raise RuntimeError("broken")

    async def fine(request: Request) -> Response:
        return PlainTextResponse("fine")

    def in_a_thread(request: Request) -> Response:
        return PlainTextResponse("thread")

    async def http_error(request: Request, error: Exception) -> Response:
        assert isinstance(error, HTTPException)
        return PlainTextResponse(f"handled {error.status_code}", status_code=error.status_code)

    async def unexpected(request: Request, error: Exception) -> Response:
        return PlainTextResponse(f"unexpected {type(error).__name__}", status_code=500)

    app = Starlette(
        routes=[
            EndpointRoute("/teapot", teapot),
            EndpointRoute("/broken", broken),
            EndpointRoute("/fine", fine, methods=["GET", "POST"]),
            EndpointRoute("/thread", in_a_thread),
        ],
        exception_handlers={HTTPException: http_error, Exception: unexpected},
    )
    with TestClient(app, raise_server_exceptions=False) as client:
        assert (client.get("/teapot").status_code, client.get("/teapot").text) == (
            418,
            "handled 418",
        )
        assert client.get("/broken").text == "unexpected RuntimeError"
        assert client.post("/fine").text == "fine"
        assert client.put("/fine").status_code == 405
        assert client.get("/thread").text == "thread"


def test_every_async_endpoint_of_the_portal_is_answered_directly(app: Starlette) -> None:
    routes = [route for route in app.routes if isinstance(route, EndpointRoute)]
    assert len(routes) > 100
    for route in routes:
        assert route.app.__qualname__.startswith("_answered_by"), route.name
