"""The webhook sender connects to the address that was checked, never to a second answer of the resolver,
and follows no redirect. A real HTTP receiver on 127.0.0.1."""
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from services.notifications.sender import pinned_post


@pytest.fixture
def receiver():
    seen = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            seen.append({"host": self.headers["Host"], "path": self.path, "body": body,
                         "signature": self.headers["X-Agora-Signature"]})
            if self.path.startswith("/moved"):
                self.send_response(302)
                self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
            else:
                self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1], seen
    server.shutdown()
    server.server_close()


def test_the_post_goes_to_the_checked_address_with_the_urls_host(receiver):
    port, seen = receiver
    # `.invalid` never resolves (RFC 6761): reaching the receiver proves no second lookup happened.
    url = f"http://hooks.invalid:{port}/hook?city=x"
    response = pinned_post(url, "127.0.0.1", b'{"a":1}', {"X-Agora-Signature": "sha256=s"}, timeout=5)
    assert response.status == 204
    assert seen == [{"host": f"hooks.invalid:{port}", "path": "/hook?city=x", "body": b'{"a":1}',
                     "signature": "sha256=s"}]


def test_a_redirect_is_answered_not_followed(receiver):
    port, seen = receiver
    response = pinned_post(f"http://hooks.invalid:{port}/moved", "127.0.0.1", b"{}", {}, timeout=5)
    assert response.status == 302 and response.headers["Location"].startswith("http://169.254.169.254/")
    assert len(seen) == 1
