"""`X-FuseGuard-Node: <host name>:<pid>` on every answer, naming the web process that served it.

Behind a load balancer over several web containers (and several gunicorn
workers in each), an operator reading a slow or failed answer, or a test
checking that requests are spread, can tell which process answered. It costs a
string format per response: the host name is read once, the pid on each answer
(gunicorn may load the app before forking its workers, where a pid read at
start would be the master's). Host name and pid say nothing about the data and
are the same a container's logs show.
"""

from __future__ import annotations

import os
import socket

NODE_HEADER = "X-FuseGuard-Node"
_HOST_NAME = socket.gethostname()


def node_name() -> str:
    """This process as `<host name>:<pid>`."""
    return f"{_HOST_NAME}:{os.getpid()}"


class NodeHeaderMiddleware:
    """Adds the node header to every response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response[NODE_HEADER] = node_name()
        return response
