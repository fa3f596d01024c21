"""werkzeug's development server, keeping HTTP/1.1 connections open between requests as AWS does.

werkzeug closes every connection after one answer ("Connection: close"), because http.server
cannot tell where an unread request body ends and the next request line begins. So every AWS call
made against the sandbox paid a TCP connection, a new server thread, and, in the client, a new
connection in urllib3's pool: about a third of the sandbox's CPU per call, and part of Vigil's.

Here the handler reads each request's whole body before the application sees it (so the next
request line is next on the stream), buffers the answer, sends it with its length, and keeps the
connection unless the client asked to close it or the request failed. A connection idle for
IDLE_SECONDS is closed, as AWS closes idle ones; clients (urllib3) reconnect without a retry.
"""

from __future__ import annotations

import io
import socket
import threading
import traceback
from typing import Any

from moto.moto_server.werkzeug_app import MotoRequestHandler
from werkzeug.exceptions import InternalServerError
from werkzeug.serving import ThreadedWSGIServer

# How long a connection may wait for its next request. Long enough for a client's pool to reuse it
# across an operator's resync, short enough that idle ones do not pile up (one thread each).
IDLE_SECONDS = 60

_CONNECTION_DROPPED = (ConnectionError, socket.timeout)


class KeepAliveRequestHandler(MotoRequestHandler):
    """moto's request handler, answering each request in full on a connection kept open."""

    protocol_version = "HTTP/1.1"
    timeout = IDLE_SECONDS  # socketserver sets it on the connection: an idle one times out
    # TCP_NODELAY: the headers and the body go out in two writes, and on a kept connection Nagle's
    # algorithm holds the body until the client's delayed ACK of the headers, some 40 ms: measured,
    # 60 ms a GetObject for a client calling one at a time instead of 12.
    disable_nagle_algorithm = True
    server: KeepAliveServer

    def setup(self) -> None:
        super().setup()
        self.server.opened(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.closed(self.connection)

    def run_wsgi(self) -> None:
        if self.headers.get("Expect", "").lower().strip(" \t") == "100-continue":
            self.wfile.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        self.environ = environ = self.make_environ()
        try:
            # The whole body now (werkzeug's DechunkedInput for a chunked one): what the
            # application leaves unread must not be taken for the next request.
            environ["wsgi.input"] = io.BytesIO(_whole_body(environ))
            status, headers, body = self._answer(environ)
        except _CONNECTION_DROPPED:
            self.close_connection = True  # a client gone, or an answer dropped by a fault
            return
        self._send(status, headers, body, environ["REQUEST_METHOD"])

    def _answer(self, environ: dict[str, Any]) -> tuple[str, list[tuple[str, str]], bytes]:
        answered: list[tuple[str, list[tuple[str, str]]]] = []
        chunks: list[bytes] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answered[:] = [(status, list(headers))]
            return chunks.append

        try:
            iterable = self.server.app(environ, start_response)
            try:
                chunks.extend(iterable)
            finally:
                close = getattr(iterable, "close", None)
                if close is not None:
                    close()
        except _CONNECTION_DROPPED:
            raise
        except Exception:  # as werkzeug does: a 500, the traceback in the server's log
            self.server.log("error", f"Error on request:\n{traceback.format_exc()}")
            self.close_connection = True
            error = InternalServerError()
            return f"{error.code} {error.name}", [("Content-Type", "text/html; charset=utf-8")], error.get_body().encode()
        status, headers = answered[-1]
        return status, headers, b"".join(chunks)

    def _send(self, status: str, headers: list[tuple[str, str]], body: bytes, method: str) -> None:
        code_text, _, reason = status.partition(" ")
        code = int(code_text)
        self.send_response(code, reason)
        names = set()
        for name, value in headers:
            self.send_header(name, value)
            names.add(name.lower())
        bodiless = method == "HEAD" or 100 <= code < 200 or code in (204, 304)
        if not bodiless and "content-length" not in names:
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not bodiless:
            self.wfile.write(body)
        self.wfile.flush()

    def log_error(self, format: str, *args: Any) -> None:
        if format.startswith("Request timed out"):
            return  # an idle connection closed: the normal end of a kept connection
        super().log_error(format, *args)


def _whole_body(environ: dict[str, Any]) -> bytes:
    stream = environ["wsgi.input"]
    if environ.get("wsgi.input_terminated"):  # chunked: read to the last chunk
        return stream.read()
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return stream.read(length) if length > 0 else b""


class KeepAliveServer(ThreadedWSGIServer):
    """A threaded WSGI server whose open connections can be closed at once, so that stopping it
    does not wait for idle clients, and no client keeps talking to a stopped sandbox."""

    def __init__(self, host: str, port: int, app: Any,
                 handler: type[KeepAliveRequestHandler] = KeepAliveRequestHandler) -> None:
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(host, port, app, handler=handler)

    def opened(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.add(connection)

    def closed(self, connection: socket.socket) -> None:
        with self._connections_lock:
            self._connections.discard(connection)

    def close_connections(self) -> None:
        """End every open connection: an idle one's handler reads the end of the stream and exits."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            try:
                connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by its client
