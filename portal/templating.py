"""The Jinja environment of the portal's pages: Flask's own, with template globals that say quickly which
names they hold, and the fixed texts of a page written in when it is compiled for a language.

Every ``{% from ... import ... %}`` asks Jinja (3.1) which of the importing page's global names the imported
template lacks, as ``names - template.globals.keys()``. The globals are a ChainMap over the environment's
few dozen names, and that difference tests each name against each map in Python: on the debtor's overview,
with its six imports, it was a sixth of the page's rendering. Here ``keys()`` answers with a set, so the
difference is one set operation.

A page's ``{{ _("Open invoices") }}`` looks its text up in the visitor's catalog on every view, forty-odd
times a page, for text that is the same for every visitor of that language. So each catalog gets an
environment of its own (an overlay: same loader, globals and filters, a template cache of its own), and its
templates are compiled with each such text already translated. Only a text given on its own, straight into
the page, is written in; one with values (``_("Hello %(name)s", name=...)``), one given to a macro or a
filter, and one with a ``%`` in it are still translated when the page is rendered, exactly as before. The
environment Flask made hands every template it is asked for to the one of the current catalog; outside an
app context it compiles and renders them itself, with every text translated at render time.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import MutableMapping
from typing import Any

from babel.support import NullTranslations
from flask.templating import Environment
from jinja2 import nodes

from portal.i18n import current_catalog

# A bound on the environments kept per catalog: there is one catalog per language, so more means catalogs are
# being made anew (outside Flask-Babel's cache), and keeping each would grow without end.
_MAX_CATALOGS = 8
_CACHE_SIZE = 400  # templates kept compiled per catalog, as Jinja keeps by default


class TemplateGlobals(ChainMap[str, Any]):
    """A template's globals over the environment's, as Jinja makes them; ``keys()`` is a snapshot set."""

    def keys(self) -> set[str]:  # type: ignore[override]
        return set().union(*self.maps)


class PortalEnvironment(Environment):
    # The catalog this environment's templates are compiled with; None: translate every text at render time.
    catalog: NullTranslations | None = None

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return TemplateGlobals({} if d is None else d, self.globals)

    def get_template(self, name: Any, parent: str | None = None, globals: Any = None) -> Any:  # noqa: A002
        env = self.for_current_catalog()
        if env is not self:
            return env.get_template(name, parent, globals)
        return super().get_template(name, parent, globals)

    def select_template(self, names: Any, parent: str | None = None, globals: Any = None) -> Any:  # noqa: A002
        env = self.for_current_catalog()
        if env is not self:
            return env.select_template(names, parent, globals)
        return super().select_template(names, parent, globals)

    def compile(
        self,
        source: str | nodes.Template,
        name: str | None = None,
        filename: str | None = None,
        raw: bool = False,
        defer_init: bool = False,
    ) -> Any:
        if self.catalog is not None and isinstance(source, str):
            source = write_in_fixed_texts(self.parse(source, name, filename), self.catalog)
        return super().compile(source, name, filename, raw, defer_init)  # type: ignore[call-overload]

    def for_current_catalog(self) -> PortalEnvironment:
        """The environment whose templates are compiled with the current catalog's fixed texts written in."""
        if self.catalog is not None:
            return self  # compiled for a catalog already: its imports and includes stay with it
        catalog = current_catalog()
        if catalog is None:
            return self
        # Kept with the environment that made them: an overlay of this one (the e-mails' own environment) copies
        # its attributes, and must make its own, since theirs differ in what they were made with (autoescaping).
        owner, per_catalog = self.__dict__.get("_per_catalog", (None, {}))
        if owner is not self:
            per_catalog = {}
            self.__dict__["_per_catalog"] = (self, per_catalog)
        env = per_catalog.get(catalog)
        if env is None:
            if len(per_catalog) >= _MAX_CATALOGS:
                per_catalog.clear()
            env = per_catalog[catalog] = self.overlay(cache_size=_CACHE_SIZE)
            env.catalog = catalog
        env.auto_reload = self.auto_reload  # Flask's debug mode may switch it on after the overlay was made
        return env


def write_in_fixed_texts(template: nodes.Template, catalog: NullTranslations) -> nodes.Template:
    """Replace each ``{{ _("fixed text") }}`` written straight into the page by its translation in ``catalog``,
    as the template data that ``_`` would have given at render time (our own catalog's text, trusted as it is).
    A template that names anything ``_`` itself (``{% set _ = ... %}``) is left as it is."""
    if any(name.name == "_" and name.ctx != "load" for name in template.find_all(nodes.Name)):
        return template  # a variable, a loop's or a macro's argument of that name
    for output in template.find_all(nodes.Output):
        output.nodes = [_translated(child, catalog) for child in output.nodes]
    return template


def _translated(node: nodes.Expr, catalog: NullTranslations) -> nodes.Expr:
    if not (
        isinstance(node, nodes.Call)
        and isinstance(node.node, nodes.Name)
        and node.node.name == "_"
        and len(node.args) == 1
        and isinstance(node.args[0], nodes.Const)
        and isinstance(node.args[0].value, str)
        and not node.kwargs
        and node.dyn_args is None
        and node.dyn_kwargs is None
    ):
        return node
    message = node.args[0].value
    translated = catalog.ugettext(message)
    if "%" in message or "%" in translated:
        return node  # at render time it is %-formatted (and a stray % refused): keep that
    return nodes.TemplateData(translated, lineno=node.lineno)
