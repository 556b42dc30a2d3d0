"""The pages' templates: Jinja, set up once per process for the portal's way of rendering.

Every page renders through here (web.render_template), so what each render costs is paid by
every request: the environment keeps templates and their compiled code, calls the portal's
helpers straight away, writes fixed links into a template's text and plain partials into
their includers, and yields each output's pieces as one string.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

from jinja2 import BytecodeCache, Environment, FileSystemLoader, Template, nodes
from jinja2.bccache import Bucket
from jinja2.compiler import CodeGenerator, Frame
from jinja2.ext import Extension
from jinja2.runtime import Context
from markupsafe import escape

from portal import local_time


class TemplateHelper:
    """A plain function pages call (``url_for``, ``static``), marked so that Jinja calls it
    straight away.

    Jinja's ``Context.call`` looks at every callable, at every call, for markers asking for the
    template's context or environment: four attribute lookups, most of them failing. With a
    dozen links a page that was about a tenth of its render. A helper never asks for either.
    """

    __slots__ = ("function",)

    def __init__(self, function: Callable[..., str]) -> None:
        self.function = function

    def __call__(self, *args: Any, **kwargs: Any) -> str:
        return self.function(*args, **kwargs)


class _Context(Context):
    """Jinja's template context, calling a :class:`TemplateHelper` without looking for markers
    (anything else as Jinja does)."""

    def call(__self, __obj: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        if type(__obj) is not TemplateHelper:
            return super().call(__obj, *args, **kwargs)
        # As Jinja does for a callable that takes no context.
        kwargs.pop("_block_vars", None)
        kwargs.pop("_loop_vars", None)
        try:
            return __obj.function(*args, **kwargs)
        except StopIteration:
            return __self.environment.undefined(
                "value was undefined because a callable raised a StopIteration exception"
            )


def escaped_text(value: Any) -> str:
    """``value`` escaped for a page as markupsafe's ``escape`` escapes it, as plain text.

    A page's values are mostly plain strings; for them markupsafe's ``escape`` (a Python
    function) makes a Markup (a second Python call, which looks for ``__html__`` again) around
    its C escaping: about 1 µs a value, 3.5 % of a signed-in page's CPU on a live server. Five
    replaces in C, each returning the string itself when it has nothing to replace, give the
    same text. Anything else (Markup, an object with ``__html__``, a number, a string
    subclass such as an enum) is escaped by markupsafe as before.

    Most values (ids, names, keys in base64, numbers) have nothing to escape: five ``in``
    tests, with no method call, find that in half the time the five replaces take.
    """
    if type(value) is not str:
        return escape(value)
    if (
        "&" not in value
        and "<" not in value
        and ">" not in value
        and "'" not in value
        and '"' not in value
    ):
        return value
    return (
        value.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


class _LeanOutput(CodeGenerator):
    """Jinja's code generator, with leaner output: each output's pieces yielded as one string,
    and plain text escaped without a Markup made for it.

    Jinja compiles ``<li>{{ a }} and {{ b }}</li>`` into five ``yield`` statements, and every
    piece a page yields is resumed through each generator between it and the render's join
    (a block's, its template's, the base's): for a signed-in page about sixty pieces through
    two or three levels. Here an output of several pieces is one ``yield concat((...))``, its
    pieces evaluated in the same order as before; an output inside a block that captures its
    text (``{% set %}``, a macro, ``{% filter %}``) is laid out as Jinja lays it out, and so is
    an output of one piece. Every value, in any output, is escaped by :func:`escaped_text`
    (markupsafe's text, without its Markup: a piece only joins the page's text, and captured
    text is made Markup as a whole, as before). tests/unit/test_templating.py renders every
    template both ways and compares.
    """

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        if frame.eval_ctx.volatile or not frame.eval_ctx.autoescape:
            super()._output_child_pre(node, frame, finalize)
            return
        # Escaped as Jinja escapes it, without the Markup made for each piece (escaped_text).
        self.write("environment.escaped_text(")
        if finalize.src is not None:
            self.write(finalize.src)

    def visit_Output(self, node: nodes.Output, frame: Frame) -> None:  # noqa: N802  (Jinja's name)
        if frame.buffer is not None:
            super().visit_Output(node, frame)
            return
        if frame.require_output_check:
            # As Jinja: a template that extends another writes nothing outside its blocks.
            if self.has_known_extends:
                return
            self.writeline("if parent_template is None:")
            self.indent()
        finalize = self._make_finalize()
        body = self._output_body(node, frame, finalize)
        if len(body) > 1:
            self.writeline("yield concat((")
            self.indent()
        for item in body:
            if isinstance(item, list):
                value = self._output_const_repr(item)
                self.writeline(value + "," if len(body) > 1 else "yield " + value)
                continue
            if len(body) > 1:
                self.newline(item)
            else:
                self.writeline("yield ", item)
            self._output_child_pre(item, frame, finalize)
            self.visit(item, frame)
            self._output_child_post(item, frame, finalize)
            if len(body) > 1:
                self.write(",")
        if len(body) > 1:
            self.outdent()
            self.writeline("))")
        if frame.require_output_check:
            self.outdent()

    def _output_body(
        self, node: nodes.Output, frame: Frame, finalize: Any
    ) -> list[list[Any] | nodes.Expr]:
        """The output's pieces, as Jinja's visit_Output finds them: runs of text known when the
        template is compiled (joined), and expressions evaluated at render."""
        body: list[list[Any] | nodes.Expr] = []
        for child in node.nodes:
            try:
                if not (finalize.const or isinstance(child, nodes.TemplateData)):
                    raise nodes.Impossible()
                const = self._output_child_to_const(child, frame, finalize)
            except (nodes.Impossible, Exception):  # noqa: BLE001  (as Jinja: raised at render)
                body.append(child)
                continue
            last = body[-1] if body else None
            if isinstance(last, list):
                last.append(const)
            else:
                body.append([const])
        return body


class _Templates(Environment):
    """Jinja, with each template's globals in one plain dict, made when the template is loaded.

    Jinja keeps them as a ChainMap over the environment's, and every render (and every
    include) copies them into the new context through the ChainMap's Python methods, key by
    key: about a tenth of a signed-in page's rendering. The environment's globals are all set
    in make_jinja, before any template is loaded, and never change after.
    """

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return {**self.globals, **(d or {})}

    context_class = _Context
    code_generator_class = _LeanOutput

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        # Each template once loaded, by name, in a plain dict: Jinja's own cache is an LRU
        # behind a lock, with a deque moved at every hit (a page asks for two or three
        # templates: its own, base.html, its includes). Only without auto_reload, where a
        # loaded template is never looked at on disk again; the names are the code's own, a
        # fixed set.
        self._loaded: dict[str, Template] | None = {} if not self.auto_reload else None
        # What _LeanOutput's code calls for each value it writes (in the instance's own dict,
        # where Python finds it fastest).
        self.escaped_text = escaped_text

    def _load_template(self, name: str, globals: MutableMapping[str, Any] | None) -> Template:
        loaded = self._loaded
        if loaded is None or globals:
            return super()._load_template(name, globals)
        template = loaded.get(name)
        if template is None:
            template = loaded[name] = super()._load_template(name, None)
        return template


# ``{{ url_for('name') }}`` and ``{{ static('path') }}``: a link whose only argument is a
# literal, the same for every request served at the root.
_FIXED_LINK = re.compile(r"\{\{\s*(url_for|static)\(\s*'([A-Za-z0-9_./-]+)'\s*\)\s*\}\}")


class _FixedLinks(Extension):
    """Writes a link whose only argument is a literal into the template's text once, when the
    template is compiled, rather than calling its helper and escaping its answer at every render.

    A signed-in page's menu and links are a dozen such calls, about a fifth of its rendering.
    ``static('path')`` is a fixed path; ``url_for('name')`` of a route without parameters is
    its path, for requests served at the root (the portal's own origin: its cookies are
    ``__Host-`` ones and its scripts call ``/api/...``). A request below a root path is
    rendered with templates compiled with no fixed paths (web.render_template), whose
    ``url_for`` puts the prefix in. Any other call (a route with parameters, one in a Mount, a
    name no route has) is left as it was, called at every render as before.
    tests/unit/test_web.py renders every such link both ways, at the root and below one.
    """

    def __init__(self, environment: Environment) -> None:
        super().__init__(environment)
        environment.extend(fixed_paths={})

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        fixed_paths: Mapping[str, str] = self.environment.fixed_paths  # type: ignore[attr-defined]
        return _FIXED_LINK.sub(lambda found: _fixed_link(fixed_paths, found), source)


def _fixed_link(fixed_paths: Mapping[str, str], found: re.Match[str]) -> str:
    helper, argument = found.group(1), found.group(2)
    if helper == "static":
        return str(escape(static_path(argument)))
    path = fixed_paths.get(argument)
    if path is None:
        return found.group(0)
    return str(escape(path))


class _CompiledInProcess(BytecodeCache):
    """Each template's compiled code, kept in memory for every environment ``make_jinja`` builds
    in this process (they all have the same options, which the compiled code depends on).

    A server process builds one environment and would gain nothing; a process that builds an
    app again and again (the test suite builds one per test) otherwise parses and compiles
    every template it renders anew each time, a twentieth of an HTTP test's time. Jinja still
    reads each template's source once per environment and uses the kept code only while the
    source's checksum matches, so an edited template is compiled again.
    """

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def get_bucket(
        self, environment: Environment, name: str, filename: str | None, source: str
    ) -> Bucket:
        # The compiled code depends on the routes' paths too (_FixedLinks writes them in).
        fixed_paths: Mapping[str, str] = getattr(environment, "fixed_paths", {})
        routes = "\0".join(f"{route}={path}" for route, path in sorted(fixed_paths.items()))
        return super().get_bucket(environment, name, filename, f"{source}\0{routes}")

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_COMPILED_TEMPLATES = _CompiledInProcess()


# What an include is written into its includer: a comment or a raw block (skipped, whatever
# they hold), or ``{% include "name" %}`` (``with context`` or not, whitespace control kept).
_INCLUDE_OR_SKIPPED = re.compile(
    r"(?P<skipped>\{#.*?#\}|\{%-?\s*raw\s*-?%\}.*?\{%-?\s*endraw\s*-?%\})"
    r"|\{%(?P<left>[-+]?)\s*include\s+(?P<quote>[\"'])(?P<name>[^\"']+)(?P=quote)"
    r"(?:\s+with\s+context)?\s*(?P<right>-?)%\}",
    re.DOTALL,
)
_TAG = re.compile(r"\{%[-+]?\s*(\w+)")
_EXPRESSION = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
# Tags whose meaning is the same written in place as included: anything else (``set``,
# ``macro``, ``block``, ``import``...) would act on the includer, so such a partial stays a
# real include.
_PLAIN_TAGS = frozenset(
    {"if", "elif", "else", "endif", "for", "endfor", "with", "endwith", "include"}
)
# Names whose meaning depends on the template they are written in.
_TEMPLATE_NAMES = re.compile(r"\b(self|super|caller|varargs|kwargs)\b")
_MAX_DEPTH = 8


class _InliningLoader(FileSystemLoader):
    """Templates from a folder, each include of a plain partial written into its includer.

    An include builds a template context of its own at every render: about 40,000 machine
    instructions each, a twentieth of ``/account`` for its QR partial, and the home includes
    one per item of some lists. A partial is plain when its tags are only conditions, loops,
    ``with`` and includes, and it names nothing that depends on its template (``self``,
    ``super``, ``caller``): then its text in place of the include, in ``{% if true %}``, reads
    the same names from the same scopes (the includer's context and the variables it sets
    around the include, as an include gets them) and keeps the same whitespace (the block tag
    takes the include's place for trim_blocks and lstrip_blocks; the line break after it lets
    the partial's first line start a line, as it did). Any other include is left to Jinja.

    Written in when a template is loaded, so the compiled code and its cache's checksum cover
    the partials' text too. An error's line number is then the includer's expanded source's.
    tests/unit/test_templating.py renders each kind of partial both ways.
    """

    def get_source(
        self, environment: Environment, template: str
    ) -> tuple[str, str, Callable[[], bool]]:
        source, filename, uptodate = super().get_source(environment, template)
        return self._inlined(environment, source, (template,)), filename, uptodate

    def _inlined(self, environment: Environment, source: str, within: tuple[str, ...]) -> str:
        def write_in(found: re.Match[str]) -> str:
            name = found.group("name")
            if name is None or name in within or len(within) >= _MAX_DEPTH:
                return found.group(0)
            partial, _filename, _uptodate = super(_InliningLoader, self).get_source(
                environment, name
            )
            if not _is_plain(partial):
                return found.group(0)
            body = self._inlined(environment, partial, (*within, name))
            if body.endswith("\n"):  # as Jinja drops a template's last line break
                body = body[:-1]
            left, right = found.group("left"), found.group("right")
            return f"{{%{left} if true %}}\n{body}{{% endif {right}%}}"

        return _INCLUDE_OR_SKIPPED.sub(write_in, source)


def _is_plain(partial: str) -> bool:
    without_comments = re.sub(r"\{#.*?#\}", "", partial, flags=re.DOTALL)
    if not set(_TAG.findall(without_comments)) <= _PLAIN_TAGS:
        return False
    return not any(
        _TEMPLATE_NAMES.search(expression.group(0))
        for expression in _EXPRESSION.finditer(without_comments)
    )


def make_jinja(templates_dir: str, fixed_paths: Mapping[str, str]) -> Environment:
    """The pages' templates; ``fixed_paths`` are the paths of the routes without parameters,
    by name (RoutePaths.fixed_paths)."""
    jinja = _Templates(
        loader=_InliningLoader(templates_dir),
        extensions=[_FixedLinks],
        bytecode_cache=_COMPILED_TEMPLATES,
        # Every template, whatever its name, and every string: as a flag rather than a function
        # of the name (Jinja's select_autoescape), which it would call for each template's
        # context at every render and include.
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        # Templates are compiled once per process and kept, without looking at their files on
        # disk again at every render (a stat call per template, three for a page): they change
        # only with a new release, which restarts the server.
        auto_reload=False,
    )
    local_time.install(jinja.filters, jinja.globals)
    jinja.fixed_paths = dict(fixed_paths)  # type: ignore[attr-defined]
    return jinja


def static_path(path: str) -> str:
    """The URL path of a file under static/ (served at the root whatever the request's
    ``root_path``)."""
    return f"/static/{path}"


STATIC = TemplateHelper(static_path)
