"""The ops endpoint of every service process: /metrics, /healthz (alive) and /readyz (can work).

A small eventlet WSGI server on OPS_PORT, started once per process whatever the number of services
in it, so Kubernetes probes and Prometheus need no Nameko HTTP entrypoint in each service.
"""
from __future__ import annotations

import json

import eventlet
from eventlet import wsgi
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from services.common import logs

_checks: dict = {}
_server = None


def add_readiness_check(name: str, check) -> None:
    _checks[name] = check


def readiness() -> tuple[bool, dict]:
    results = {}
    for name, check in list(_checks.items()):
        try:
            with eventlet.Timeout(2):
                results[name] = bool(check())
        except BaseException as exc:  # a probe must answer, whatever the check raised
            results[name] = False
            results[name + ":error"] = type(exc).__name__
    return all(v for k, v in results.items() if not k.endswith(":error")), results


def app(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/metrics":
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
        return [generate_latest()]
    if path == "/healthz":
        start_response("200 OK", [("Content-Type", "application/json")])
        return [b'{"status": "ok"}']
    if path == "/readyz":
        ok, results = readiness()
        start_response("200 OK" if ok else "503 Service Unavailable", [("Content-Type", "application/json")])
        return [json.dumps({"ready": ok, "checks": results}).encode()]
    start_response("404 Not Found", [("Content-Type", "application/json")])
    return [b'{"error": {"code": "NOT_FOUND", "message": "unknown path"}}']


def start(port: int) -> None:
    global _server
    if _server is not None or not port:
        return
    try:
        sock = eventlet.listen(("0.0.0.0", port))
    except OSError as exc:
        logs.get(component="ops").warning("ops_server_not_started", port=port, error=str(exc))
        _server = False
        return
    _server = eventlet.spawn(wsgi.server, sock, app, log_output=False)
