"""``paperlike serve``: a local web app and JSON API over an index.

Needs the ``serve`` extra (``pip install 'paperlike[serve]'``): Starlette, uvicorn, Jinja2 and
python-multipart. Importing this package imports none of them; :func:`run` and
:func:`create_app` do.

Example::

    from paperlike.web import run
    run("./my-index", port=8000)          # http://127.0.0.1:8000/

The web app is a front end beside the CLI: queries go through the same service-layer calls
(``Recommender.ask``, ``paper``, ``records``, ``select_papers``, the theme sets of
:mod:`paperlike.service.themes`), so a query is read and ranked exactly as ``paperlike similar``
reads and ranks it. :mod:`.backend` holds what serving needs beyond that (opening, warming and
watching index generations, adding uploads, the map's figure).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover - starlette is imported only when the app is made
    from starlette.applications import Starlette

__all__ = ["run", "create_app", "check_bind", "ServeError"]


def run(*args: Any, **kwargs: Any) -> None:
    """Serve an index until interrupted; see :func:`paperlike.web.app.run`."""
    from .security import check_bind as _check

    _check(kwargs.get("host", "127.0.0.1"), kwargs.get("allow_remote", False), kwargs.get("token"))
    try:
        from .app import run as _run
    except ImportError as exc:
        from .security import ServeError as _Error

        raise _Error(f"paperlike serve needs {exc.name}; run: pip install 'paperlike[serve]'", 400) from None

    _run(*args, **kwargs)


def create_app(*args: Any, **kwargs: Any) -> Starlette:
    """The Starlette app; see :func:`paperlike.web.app.create_app`."""
    from .app import create_app as _create

    return _create(*args, **kwargs)


def __getattr__(name: str) -> Any:
    if name in ("check_bind", "ServeError"):
        from . import security

        return getattr(security, name)
    raise AttributeError(f"module 'paperlike.web' has no attribute {name!r}")
