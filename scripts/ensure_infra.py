"""Make sure RabbitMQ and PostgreSQL are reachable before the platform or the tests start.

Uses AMQP_URI and DATABASE_URL when set. A local server that is installed but stopped is started;
otherwise this stops with a message saying how to start it.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from kombu import Connection
from sqlalchemy import create_engine, text

AMQP_URI = os.environ.get("AMQP_URI", "amqp://guest:guest@127.0.0.1:5672/")
DATABASE_URL = os.environ.get("DATABASE_URL", "postgresql://root@127.0.0.1:5432/agora")
LOCAL = ("127.0.0.1", "localhost", "::1")


def broker_up() -> bool:
    try:
        with Connection(AMQP_URI, connect_timeout=3) as conn:
            conn.ensure_connection(max_retries=1)
        return True
    except Exception:
        return False


def database_up() -> bool:
    url = DATABASE_URL.replace("postgresql://", "postgresql+psycopg2://", 1).rsplit("/", 1)[0] + "/postgres"
    try:
        engine = create_engine(url, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return True
    except Exception:
        return False


def start_broker() -> bool:
    if not shutil.which("rabbitmq-server"):
        return False
    subprocess.run(["rabbitmq-server", "-detached"], capture_output=True)
    return True


def start_database() -> bool:
    if not shutil.which("pg_ctlcluster") or not Path("/etc/postgresql").is_dir():
        return False
    for version in sorted(os.listdir("/etc/postgresql")):
        subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"], capture_output=True)
    return True


def ensure(name, up, start, local: bool, hint: str) -> None:
    if up():
        return
    if local and start():
        print(f"{name} was stopped; starting the local server ...")
        for _ in range(60):
            if up():
                print(f"{name} is up.")
                return
            time.sleep(1)
    sys.exit(f"{name} is not reachable. {hint}")


def main() -> None:
    ensure(
        "RabbitMQ", broker_up, start_broker, any(h in AMQP_URI for h in LOCAL),
        f"Tried {AMQP_URI}. Start it with `rabbitmq-server -detached` (Debian: apt-get install rabbitmq-server), "
        "or set AMQP_URI to a running broker.",
    )
    ensure(
        "PostgreSQL", database_up, start_database, any(h in DATABASE_URL for h in LOCAL),
        f"Tried {DATABASE_URL}. Start it with `pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start` "
        "(Debian: apt-get install postgresql), or set DATABASE_URL to a running server.",
    )
    print("RabbitMQ and PostgreSQL are reachable.")


if __name__ == "__main__":
    main()
