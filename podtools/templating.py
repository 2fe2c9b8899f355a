"""The sandboxed Jinja environment that every template goes through (outputs, LLM prompts, the
catalogue page), and template errors as one line.

Ground floor: imports only errors, resources, textsafe and timefmt. Templates are looked up first
in the user's ``--templates DIR``, then in the shipped ``templates/``. Anything meant for a browser
(``*.html``, ``*.xml``, with or without ``.j2``) is autoescaped; in Markdown and text templates
every value is neutralized instead (:mod:`podtools.textsafe`).
"""

from __future__ import annotations

from pathlib import Path

from .errors import ConfigError
from .resources import data_dir
from .textsafe import markdown_text, plain_text
from .timefmt import hms


def _autoescape(name: str | None) -> bool:
    """Escape for browsers: ``*.html``, ``*.htm``, ``*.xml``, also with a ``.j2``/``.jinja`` suffix."""
    if not name:
        return False
    base = name.lower().removesuffix(".j2").removesuffix(".jinja")
    return base.endswith((".html", ".htm", ".xml"))


def template_error(exc: Exception, name: str, templates_dir: str | Path | None = None) -> ConfigError:
    """A template failure as one line naming the template file and line: syntax errors,
    undefined variables (StrictUndefined), sandbox violations and errors raised while rendering."""
    import jinja2

    if isinstance(exc, jinja2.TemplateSyntaxError):
        where = exc.filename or exc.name or name
        return ConfigError(f"line {exc.lineno}: template syntax error: {exc.message}", where)
    if isinstance(exc, jinja2.TemplateNotFound):
        return ConfigError(f"template {exc.name!r} not found (needed by {name})",
                           templates_dir or data_dir("templates"))
    where, line = name, None
    tb = exc.__traceback__
    while tb is not None:  # Jinja rewrites tracebacks: template frames carry the template's file and line
        filename = tb.tb_frame.f_code.co_filename
        if not filename.endswith(".py") and not filename.startswith("<"):
            where, line = filename, tb.tb_lineno
        tb = tb.tb_next
    what = "undefined variable" if isinstance(exc, jinja2.UndefinedError) else type(exc).__name__
    message = str(exc).splitlines()[0] if str(exc) else what
    return ConfigError(f"{'line %d: ' % line if line else ''}{what}: {message}", where)


def _output_kind(name: str | None) -> str:
    """``markdown``, ``text``, ``html`` (escaped by Jinja) or ``other`` (a prompt, not an
    output: left as written) for a template name."""
    base = (name or "").lower().removesuffix(".j2").removesuffix(".jinja")
    if _autoescape(name):
        return "html"
    if base.endswith((".md", ".markdown")):
        return "markdown"
    return "text" if base.endswith((".txt", ".text")) else "other"


def _finalize(context, value):
    """Every ``{{ value }}`` of a Markdown or text template: untrusted text neutralized
    (:mod:`podtools.textsafe`). A value a template marks ``|safe`` is left as it is."""
    import markupsafe

    if value is None or isinstance(value, (markupsafe.Markup, bool, int, float)):
        return value
    kind = _output_kind(context.name)
    if kind == "markdown":
        return markdown_text(value)
    if kind == "text":
        return plain_text(value)
    return value


def environment(templates_dir: str | Path | None = None):
    """Jinja environment: user templates override shipped ones; HTML autoescaped; sandboxed."""
    import jinja2
    from jinja2.sandbox import SandboxedEnvironment

    search = [str(templates_dir)] if templates_dir else []
    if templates_dir and not Path(templates_dir).is_dir():
        raise ConfigError("templates directory not found", templates_dir)
    search.append(str(data_dir("templates")))
    env = SandboxedEnvironment(
        loader=jinja2.FileSystemLoader(search),
        autoescape=_autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
        finalize=jinja2.pass_context(_finalize),
    )
    env.filters["hms"] = hms
    return env
