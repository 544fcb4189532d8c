"""The Jinja environment of the portal's pages: Flask's own, with template globals that say quickly which
names they hold.

Every ``{% from ... import ... %}`` asks Jinja (3.1) which of the importing page's global names the imported
template lacks, as ``names - template.globals.keys()``. The globals are a ChainMap over the environment's
few dozen names, and that difference tests each name against each map in Python: on the debtor's overview,
with its six imports, it was a sixth of the page's rendering. Here ``keys()`` answers with a set, so the
difference is one set operation.
"""

from __future__ import annotations

from collections import ChainMap
from collections.abc import MutableMapping
from typing import Any

from flask.templating import Environment


class TemplateGlobals(ChainMap[str, Any]):
    """A template's globals over the environment's, as Jinja makes them; ``keys()`` is a snapshot set."""

    def keys(self) -> set[str]:  # type: ignore[override]
        return set().union(*self.maps)


class PortalEnvironment(Environment):
    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        return TemplateGlobals({} if d is None else d, self.globals)
