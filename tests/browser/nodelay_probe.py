"""Test-only Jupyter server extension: reports the server side of kernel websockets.

A test cannot read a socket option of another process, so servers started by the
harness with ``probe=True`` also load this module (put on ``PYTHONPATH``).  It adds

    GET /invwidgets-probe/kernel-websockets

which answers, for every open kernel websocket in the server, the kernel id, the
browser-side (peer) address and whether the server's socket has TCP_NODELAY set,
plus the server's ``INVWIDGETS_NODELAY_ACTIVE``.  It only reads state; it does not
patch anything, so it cannot mask or cause the behaviour under test.

Standard library and jupyter_server only (importable without pytest/playwright).
"""

from __future__ import annotations

import gc
import json
import os
import socket

EXTENSION_NAME = "nodelay_probe"
PROBE_PATH = "/invwidgets-probe/kernel-websockets"


def _kernel_websockets() -> list:
    from jupyter_server.services.kernels.websocket import KernelWebsocketHandler

    # gc walk rather than a private registry of jupyter_server: independent of the
    # kernel websocket connection class in use.
    return [
        o
        for o in gc.get_objects()
        if isinstance(o, KernelWebsocketHandler) and getattr(o, "ws_connection", None) is not None
    ]


def describe_kernel_websockets() -> list[dict]:
    out = []
    for h in _kernel_websockets():
        stream = getattr(h.ws_connection, "stream", None)
        sock = getattr(stream, "socket", None)
        if sock is None:
            continue
        try:
            nodelay = bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            peer = list(sock.getpeername()[:2])
        except OSError:
            continue
        out.append({"kernel_id": getattr(h, "kernel_id", None), "peer": peer, "nodelay": nodelay})
    return out


def _jupyter_server_extension_points():
    return [{"module": EXTENSION_NAME}]


def _load_jupyter_server_extension(serverapp):
    from jupyter_server.base.handlers import APIHandler
    from jupyter_server.utils import url_path_join
    from tornado import web

    class ProbeHandler(APIHandler):
        @web.authenticated
        def get(self):
            self.finish(
                json.dumps(
                    {
                        "nodelay_active_env": os.environ.get("INVWIDGETS_NODELAY_ACTIVE"),
                        "kernel_websockets": describe_kernel_websockets(),
                    }
                )
            )

    base = serverapp.web_app.settings["base_url"]
    serverapp.web_app.add_handlers(".*$", [(url_path_join(base, PROBE_PATH), ProbeHandler)])
