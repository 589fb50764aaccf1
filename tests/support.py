"""Test support: an isolated broker vhost and database per run, the platform as real processes, a client."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import requests
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
# Real public data (pabulib files, labelled idea texts): ../shared/data beside the repository.
SHARED_DATA = Path(os.environ.get("AGORA_SHARED_DATA", ROOT.parent / "shared" / "data"))
BASE_AMQP = os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
BASE_DB = os.environ.get("DATABASE_URL", "postgresql://root@127.0.0.1:5432/postgres")
PLATFORM_KEY = "test-platform-key"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- broker ----------------------------------------------------------------------------------------
def _vhost_uri(vhost: str) -> str:
    parts = urlsplit(BASE_AMQP)
    return urlunsplit((parts.scheme, parts.netloc, "/" + quote(vhost, safe=""), "", ""))


def _rabbitmqctl(*args: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)


def create_vhost(name: str) -> str:
    """A vhost of its own, so two runs never see each other's exchanges and queues."""
    parts = urlsplit(BASE_AMQP)
    if shutil.which("rabbitmqctl"):
        _rabbitmqctl("add_vhost", name)
        _rabbitmqctl("set_permissions", "-p", name, parts.username or "guest", ".*", ".*", ".*")
    else:
        api = os.environ.get("RABBITMQ_MANAGEMENT_URL", f"http://{parts.hostname}:15672")
        creds = (parts.username or "guest", parts.password or "guest")
        r = requests.put(f"{api}/api/vhosts/{quote(name, safe='')}", auth=creds, timeout=10)
        if r.status_code >= 300:
            raise RuntimeError(
                "Cannot create a RabbitMQ vhost for the tests: install rabbitmqctl on this machine or enable "
                "the management plugin (rabbitmq-plugins enable rabbitmq_management)."
            )
        requests.put(
            f"{api}/api/permissions/{quote(name, safe='')}/{creds[0]}", auth=creds, timeout=10,
            json={"configure": ".*", "write": ".*", "read": ".*"},
        )
    return _vhost_uri(name)


def delete_vhost(name: str) -> None:
    if shutil.which("rabbitmqctl"):
        subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], capture_output=True, timeout=60)
    else:
        parts = urlsplit(BASE_AMQP)
        api = os.environ.get("RABBITMQ_MANAGEMENT_URL", f"http://{parts.hostname}:15672")
        requests.delete(f"{api}/api/vhosts/{quote(name, safe='')}",
                        auth=(parts.username or "guest", parts.password or "guest"), timeout=10)


# -- database --------------------------------------------------------------------------------------
def _admin_engine():
    base = BASE_DB.replace("postgresql://", "postgresql+psycopg2://", 1).rsplit("/", 1)[0]
    return create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")


def create_database(name: str) -> str:
    eng = _admin_engine()
    with eng.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    eng.dispose()
    return BASE_DB.rsplit("/", 1)[0] + "/" + name


def drop_database(name: str) -> None:
    eng = _admin_engine()
    with eng.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    eng.dispose()


class Environment:
    """A vhost and a database of their own, with every service's migrations applied."""

    def __init__(self):
        self.name = f"agora_test_{uuid.uuid4().hex[:10]}"
        self.amqp_uri = create_vhost(self.name)
        self.database_url = create_database(self.name)
        env = {**os.environ, "DATABASE_URL": self.database_url, "AMQP_URI": self.amqp_uri}
        done = subprocess.run([sys.executable, "-m", "services.common.migrate", "upgrade", *service_names()],
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
        if done.returncode != 0:
            self.close()
            raise RuntimeError(f"migrations failed:\n{done.stdout}\n{done.stderr}")

    def close(self):
        drop_database(self.name)
        delete_vhost(self.name)


# -- the platform as real processes -----------------------------------------------------------------
ALL_SERVICES = ("accounts", "ideas", "voting", "gamification", "budgeting", "notifications", "analytics")


def service_names() -> list[str]:
    listed = os.environ.get("AGORA_SERVICES")
    names = [s for s in listed.split(",") if s] if listed else list(ALL_SERVICES)
    return [n for n in names if (ROOT / "services" / n / "service.py").exists()]


class Platform:
    """`nameko run` of the given services (and the gateway) against the test environment."""

    def __init__(self, environment: Environment, services: list[str], extra_env: dict | None = None,
                 gateway: bool = True, log_dir: Path | None = None, name: str = "platform"):
        self.environment = environment
        self.services = services
        self.gateway = gateway
        self.port = free_port()
        self.ops_port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "DATABASE_URL": environment.database_url,
            "AMQP_URI": environment.amqp_uri,
            "GATEWAY_PORT": str(self.port),
            "OPS_PORT": str(self.ops_port),
            "PLATFORM_ADMIN_KEY": PLATFORM_KEY,
            "AGORA_SERVICES": ",".join(services),
            "WEBHOOK_ALLOW_PRIVATE": "1",
            # every test client logs in from 127.0.0.1; the per-account limit stays as in production
            "LOGIN_ATTEMPTS_PER_ADDRESS": "100000",
            "SIGNUPS_PER_ADDRESS": "100000",
            # rate limits in the shared Redis, apart from any other run's
            "REDIS_PREFIX": environment.name,
            "PUBLIC_URL": f"http://127.0.0.1:{self.port}",
            "PYTHONWARNINGS": "ignore",
            "PYTHONUNBUFFERED": "1",
            "LOG_LEVEL": "INFO",
            **(extra_env or {}),
        }
        self.log_path = (log_dir or Path("/tmp")) / f"{environment.name}-{name}.log"
        self.process = None

    def modules(self) -> list[str]:
        mods = [f"services.{s}.service" for s in self.services]
        return mods + (["gateway.service"] if self.gateway else [])

    def start(self, timeout: float = 90) -> "Platform":
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "nameko", "run", "--config", str(ROOT / "config.yaml"), *self.modules()],
            cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        probe = f"{self.url}/readyz" if self.gateway else f"http://127.0.0.1:{self.ops_port}/readyz"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the platform exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if requests.get(probe, timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"the platform did not become ready in {timeout}s:\n{self.log_tail()}")

    def stop(self, sig=signal.SIGTERM, timeout: float = 30) -> int | None:
        if self.process is None or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        return self.process.returncode

    def log_tail(self, lines: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


# -- an HTTP client of the API ----------------------------------------------------------------------
class Api:
    def __init__(self, base_url: str):
        self.base = base_url.rstrip("/") + "/api/v1"
        self.http = requests.Session()

    def request(self, method: str, path: str, token: str | None = None, headers: dict | None = None, **kw):
        headers = dict(headers or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, self.base + path, headers=headers, timeout=kw.pop("timeout", 30), **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    # factories ------------------------------------------------------------------------------------
    def new_city(self, locales=("en", "nl")) -> dict:
        slug = f"c-{uuid.uuid4().hex[:10]}"
        admin = {"email": f"admin@{slug}.example.org", "password": "admin-password-1", "display_name": "City Admin"}
        r = self.post("/cities", headers={"X-Platform-Key": PLATFORM_KEY},
                      json={"slug": slug, "name": f"City {slug}", "locales": list(locales), "admin": admin})
        assert r.status_code == 201, r.text
        city = r.json()
        city["admin_token"] = self.login(slug, admin["email"], admin["password"])
        city["admin_id"] = city["admin"]["id"]
        return city

    def login(self, slug: str, email: str, password: str) -> str:
        r = self.post(f"/cities/{slug}/auth/token", json={"email": email, "password": password})
        assert r.status_code == 200, r.text
        return r.json()["access_token"]

    def new_user(self, city: dict, **profile) -> dict:
        email = f"u-{uuid.uuid4().hex[:10]}@example.org"
        body = {"email": email, "password": "citizen-password-1", "display_name": profile.pop("display_name", email[:12]),
                **profile}
        r = self.post(f"/cities/{city['slug']}/users", json=body)
        assert r.status_code == 201, r.text
        user = r.json()
        user["token"] = self.login(city["slug"], email, body["password"])
        return user

    def promote(self, city: dict, user: dict, role: str) -> dict:
        r = self.put(f"/cities/{city['slug']}/users/{user['id']}/role", token=city["admin_token"], json={"role": role})
        assert r.status_code == 200, r.text
        user["token"] = self.login(city["slug"], user["email"], "citizen-password-1")
        return user


def eventually(check, timeout: float = 5.0, interval: float = 0.05):
    """Retry `check` until it returns a truthy value (or stops raising AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except AssertionError:
            if time.monotonic() > deadline:
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(interval)
