"""The gateway's HTTP server: Nameko's, answering every refusal with the JSON error envelope.

Nameko's web server answers an unknown path or method with werkzeug's HTML pages, and eventlet's
HTTP protocol answers oversized or malformed requests with bare status lines or Python's HTML
error page. A client of the API gets `{"error": {code, message}}` whatever went wrong.
"""
from __future__ import annotations

import json
from http import HTTPStatus

from eventlet import wsgi
from nameko.web.handlers import HttpRequestHandler
from nameko.web.server import HttpOnlyProtocol, WebServer, WsgiApp
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.wrappers import Request, Response

MAX_HEADER_BYTES = 8 * 1024  # one header line; the whole head may be 64 KiB (eventlet's limit)
# eventlet refuses longer lines itself, with a bare status line: read up to this length so that
# the gateway can answer 431 in JSON (a line longer still is cut off there and refused all the same)
_READ_HEADER_LINE = 256 * 1024

CODES = {
    400: "BAD_REQUEST", 404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED", 408: "REQUEST_TIMEOUT",
    413: "PAYLOAD_TOO_LARGE", 414: "URI_TOO_LONG", 431: "HEADERS_TOO_LARGE", 501: "NOT_IMPLEMENTED",
    505: "HTTP_VERSION_NOT_SUPPORTED",
}


def envelope(status: int, message: str, code: str | None = None) -> bytes:
    return json.dumps({"error": {"code": code or CODES.get(status, "BAD_REQUEST"), "message": message}}).encode()


def json_response(status: int, message: str, code: str | None = None, headers: dict | None = None) -> Response:
    return Response(envelope(status, message, code), status=status, mimetype="application/json", headers=headers)


class JsonProtocol(HttpOnlyProtocol):
    """eventlet's protocol with JSON refusals of requests it cannot parse."""

    def parse_request(self):
        try:
            ok = super().parse_request()
        except (wsgi.HeaderLineTooLong, wsgi.HeadersTooLarge):
            self._refuse(431, "A request header is too large.")
            return False
        if ok and any(len(value) > MAX_HEADER_BYTES for value in self.headers.values()):
            self._refuse(431, f"A request header is longer than {MAX_HEADER_BYTES} bytes.")
            return False
        return ok

    def _read_request_line(self):
        line = super()._read_request_line()
        if line and len(line) >= self.server.url_length_limit:
            self._refuse(414, "The request line is too long.")
            return ""  # eventlet then closes the connection
        return line

    def send_error(self, code, message=None, explain=None):
        """Python's http.server calls this for a request line it cannot read."""
        phrase = HTTPStatus(code).phrase if code in HTTPStatus._value2member_map_ else "Bad request"
        self._refuse(code, f"{phrase}.")

    def _refuse(self, status: int, message: str) -> None:
        body = envelope(status, message)
        phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else ""
        self.close_connection = 1
        self.wfile.write(
            f"HTTP/1.1 {status} {phrase}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n".encode("latin-1") + body
        )


class JsonWsgiApp(WsgiApp):
    def __call__(self, environ, start_response):
        request = Request(environ, shallow=True)
        adapter = self.url_map.bind_to_environ(environ)
        try:
            provider, values = adapter.match()
            request.path_values = values
            response = provider.handle_request(request)
        except MethodNotAllowed as exc:
            allowed = ", ".join(sorted(exc.valid_methods or []))
            response = json_response(405, f"Method {request.method} is not allowed here.",
                                     headers={"Allow": allowed} if allowed else None)
        except HTTPException as exc:
            status = exc.code or 400
            response = json_response(status, "No such path." if status == 404 else (exc.description or "Refused."))
        return response(environ, start_response)


class JsonWebServer(WebServer):
    def get_wsgi_app(self):
        return JsonWsgiApp(self)

    def get_wsgi_server(self, sock, wsgi_app, protocol=JsonProtocol, debug=False):
        wsgi.MAX_HEADER_LINE = max(wsgi.MAX_HEADER_LINE, _READ_HEADER_LINE)
        return super().get_wsgi_server(sock, wsgi_app, protocol=protocol, debug=debug)


class JsonHttp(HttpRequestHandler):
    """Nameko's HTTP entrypoint on the JSON server, without its check of the handler's signature on
    every request (`inspect.getcallargs`): the gateway's few handlers take the request and the URL's values."""

    server = JsonWebServer()

    def check_signature(self, args, kwargs):
        pass


http = JsonHttp.decorator
