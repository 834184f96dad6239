"""Jupyter server extension: TCP_NODELAY on kernel websockets.

Why (docs/architecture.md, TCP nodelay on the kernel websocket): jupyter_server's kernel websocket leaves Nagle's
algorithm on.  A widget round trip sends several small kernel -> browser
messages in a row (status busy, comm update, status idle); with Nagle on, the
second one waits for the browser's delayed ACK (~40 ms on Linux loopback).
Measured here, a bare widget round trip took ~50 ms median, ~19 ms with
``set_nodelay(True)`` on the kernel websocket.

What it does: wraps ``KernelWebsocketHandler.open`` of jupyter_server 2.x so
that every kernel websocket calls tornado's ``WebSocketHandler.set_nodelay(True)``
as soon as it opens.  Nothing else in the server changes.

It is enabled on install by ``etc/jupyter/jupyter_server_config.d/invwidgets.json``
(shipped from ``jupyter-config/`` in the wheel).  Switch it off with either

* ``INVWIDGETS_NODELAY=0`` in the environment of the Jupyter server, or
* ``jupyter server extension disable invwidgets.nodelay`` (then restart Jupyter).

In a virtual/conda environment that command writes
``<sys.prefix>/etc/jupyter/jupyter_server_config.d/invwidgets.nodelay.json``,
next to the file that enabled the extension, and that is what works: Jupyter
reads the environment's config before the user's, so a ``--user`` setting would
not win (and jupyter_server 2 refuses ``--user`` for an extension enabled in the
environment).  ``jupyter server extension enable invwidgets.nodelay`` undoes it.

Guarded: if the handler class is missing or has a different shape (an
incompatible jupyter_server), the extension logs one warning and the server runs
unchanged.  The extension never raises into the server.

So that a kernel can tell (``invwidgets.diagnose()``), the extension sets
``INVWIDGETS_NODELAY_ACTIVE`` in the server's environment, which kernels started
by that server inherit: ``"1"`` when the patch is active, ``"0"`` when the
extension was loaded but is switched off or could not patch.  Absent means the
extension was not loaded by the server that started the kernel.

This module must stay cheap to import: the server imports it at start-up.  It
imports only the standard library at module level.
"""

from __future__ import annotations

import functools
import logging
import os
from typing import Any

__all__ = [
    "ENV_SWITCH",
    "ENV_ACTIVE",
    "EXTENSION_NAME",
    "nodelay_enabled_by_env",
    "find_kernel_websocket_handler",
    "patch_kernel_websocket",
    "unpatch_kernel_websocket",
    "is_patched",
]

#: Set to ``0`` / ``false`` / ``no`` / ``off`` in the server's environment to switch off.
ENV_SWITCH = "INVWIDGETS_NODELAY"
#: Set by the extension in the server process; inherited by kernels it starts.
ENV_ACTIVE = "INVWIDGETS_NODELAY_ACTIVE"
#: The name used in ``ServerApp.jpserver_extensions`` and by ``jupyter server extension``.
EXTENSION_NAME = "invwidgets.nodelay"

_OFF_VALUES = {"0", "false", "no", "off"}
_MARKER = "_invwidgets_nodelay"

_log = logging.getLogger(__name__)


class IncompatibleServer(RuntimeError):
    """The installed jupyter_server does not have the kernel websocket we expect."""


def nodelay_enabled_by_env(environ: Any = None) -> bool:
    """False when ``INVWIDGETS_NODELAY`` is set to an off value (0/false/no/off)."""
    env = os.environ if environ is None else environ
    return str(env.get(ENV_SWITCH, "1")).strip().lower() not in _OFF_VALUES


def _check_handler_class(cls: Any) -> None:
    """Raise IncompatibleServer unless ``cls`` looks like a tornado websocket handler
    with an ``open`` we can wrap and a ``set_nodelay`` we can call."""
    try:
        from tornado.websocket import WebSocketHandler
    except Exception as e:  # pragma: no cover - tornado always present with jupyter_server
        raise IncompatibleServer(f"tornado.websocket is not importable: {e!r}") from e
    if not isinstance(cls, type) or not issubclass(cls, WebSocketHandler):
        raise IncompatibleServer(f"{cls!r} is not a tornado WebSocketHandler subclass")
    if not callable(getattr(cls, "set_nodelay", None)):
        raise IncompatibleServer(f"{cls.__name__} has no set_nodelay()")
    if not callable(getattr(cls, "open", None)):
        raise IncompatibleServer(f"{cls.__name__} has no open()")


def find_kernel_websocket_handler() -> type:
    """Return jupyter_server 2.x's kernel websocket handler class.

    Raises IncompatibleServer when jupyter_server is missing, older than 2, or has
    moved/reshaped the class.
    """
    try:
        import jupyter_server
    except Exception as e:
        raise IncompatibleServer(f"jupyter_server is not importable: {e!r}") from e
    version = getattr(jupyter_server, "__version__", "?")
    try:
        major = int(str(version).split(".")[0])
    except ValueError:
        major = None
    if major is not None and major < 2:
        raise IncompatibleServer(f"jupyter_server {version} is older than 2.0")
    try:
        from jupyter_server.services.kernels.websocket import KernelWebsocketHandler
    except Exception as e:
        raise IncompatibleServer(
            f"jupyter_server {version} has no "
            f"jupyter_server.services.kernels.websocket.KernelWebsocketHandler ({e!r})"
        ) from e
    _check_handler_class(KernelWebsocketHandler)
    return KernelWebsocketHandler


def is_patched(handler_cls: type | None = None) -> bool:
    """True when ``handler_cls`` (default: jupyter_server's kernel websocket) is patched."""
    if handler_cls is None:
        try:
            handler_cls = find_kernel_websocket_handler()
        except IncompatibleServer:
            return False
    return bool(getattr(handler_cls.__dict__.get("open"), _MARKER, False))


def patch_kernel_websocket(handler_cls: type | None = None, log: Any = None) -> bool:
    """Make every websocket of ``handler_cls`` call ``set_nodelay(True)`` when it opens.

    ``handler_cls`` defaults to jupyter_server's ``KernelWebsocketHandler``.
    Idempotent.  Returns True when the patch is in place, False (after one
    warning on ``log``) when the target is incompatible; never raises.
    """
    log = log or _log
    try:
        if handler_cls is None:
            handler_cls = find_kernel_websocket_handler()
        else:
            _check_handler_class(handler_cls)
    except IncompatibleServer as e:
        log.warning(
            "invwidgets.nodelay: not enabling TCP_NODELAY on kernel websockets "
            "(incompatible jupyter_server: %s). Widgets work, with ~40 ms more latency.",
            e,
        )
        return False
    if is_patched(handler_cls):
        return True

    original_open = handler_cls.open

    @functools.wraps(original_open)
    def open(self, *args, **kwargs):  # noqa: A001 - the tornado hook's name
        try:
            self.set_nodelay(True)
        except Exception as e:  # never break a websocket for a latency tweak
            log.debug("invwidgets.nodelay: set_nodelay failed: %r", e)
        # Return what the original returns (a coroutine for jupyter_server 2.x's
        # async open); tornado awaits it.
        return original_open(self, *args, **kwargs)

    setattr(open, _MARKER, True)
    handler_cls.open = open
    return True


def unpatch_kernel_websocket(handler_cls: type | None = None) -> bool:
    """Undo :func:`patch_kernel_websocket`.  Returns True if a patch was removed."""
    if handler_cls is None:
        try:
            handler_cls = find_kernel_websocket_handler()
        except IncompatibleServer:
            return False
    current = handler_cls.__dict__.get("open")
    if not getattr(current, _MARKER, False):
        return False
    handler_cls.open = current.__wrapped__
    return True


# --- Jupyter server extension entry points -----------------------------------------


def _jupyter_server_extension_points() -> list[dict[str, str]]:
    return [{"module": EXTENSION_NAME}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    log = getattr(serverapp, "log", None) or _log
    try:
        if not nodelay_enabled_by_env():
            os.environ[ENV_ACTIVE] = "0"
            log.info(
                "invwidgets.nodelay: switched off by %s=%s",
                ENV_SWITCH,
                os.environ.get(ENV_SWITCH),
            )
            return
        if patch_kernel_websocket(log=log):
            os.environ[ENV_ACTIVE] = "1"
            log.info("invwidgets.nodelay: TCP_NODELAY enabled on kernel websockets")
        else:
            os.environ[ENV_ACTIVE] = "0"
    except Exception as e:  # pragma: no cover - belt and braces: never break the server
        os.environ[ENV_ACTIVE] = "0"
        log.warning("invwidgets.nodelay: failed to load (%r); server runs unchanged", e)
