"""Ways to break things on loopback without touching the shared servers.

- `PrivateRabbit`: a RabbitMQ node of the test's own (own node name, ports, data and log directories,
  run as the `rabbitmq` user like the packaged server, sharing only epmd and the Erlang cookie), which
  the test may stop and start at will. Start ~1-2 s, `stop_app` ~1-3 s, `start_app` ~1 s on this machine.
- `RabbitCluster`: three such nodes joined in one cluster; a node can be SIGKILLed (`node.kill()`).
- `TcpProxy`: a loopback TCP proxy in front of a server (the shared PostgreSQL); `cut()` severs every
  connection and refuses new ones (the port is closed: clients fail fast with "connection refused"),
  `restore()` listens again on the same port.
"""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

from support import free_port

RABBIT_USER = "rabbitmq"


def rabbit_available() -> bool:
    return bool(shutil.which("rabbitmqctl")) and Path("/usr/lib/rabbitmq/bin/rabbitmq-server").exists()


class PrivateRabbit:
    """A RabbitMQ node for one test, on a free port, with the default vhost and guest user."""

    def __init__(self, node: str | None = None):
        self.node = node or f"agora-chaos-{uuid.uuid4().hex[:8]}@localhost"
        self.port = free_port()
        self.dist_port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="agora-chaos-rabbit-"))
        (self.dir / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\nloopback_users = none\n"
            "log.console = false\nlog.file.level = warning\n"
        )
        (self.dir / "enabled_plugins").write_text("[].\n")
        shutil.chown(self.dir, RABBIT_USER)
        for p in self.dir.iterdir():
            shutil.chown(p, RABBIT_USER)
        self.amqp_uri = f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def _env(self) -> dict:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/var/lib/rabbitmq",
            "RABBITMQ_NODENAME": self.node, "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port), "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.dir / "log"), "RABBITMQ_CONFIG_FILE": str(self.dir / "rabbitmq"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
            "RABBITMQ_PID_FILE": str(self.dir / "pid"),
        }

    def ctl(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        return subprocess.run(["rabbitmqctl", "-q", "-n", self.node, *args], capture_output=True, text=True,
                              timeout=timeout)

    def start(self, timeout: float = 60) -> "PrivateRabbit":
        self.launch()
        self.wait_accepting(timeout)
        return self

    def launch(self) -> None:
        """Start the node in the background, without waiting for it."""
        subprocess.run(["runuser", "-u", RABBIT_USER, "--", "env", *[f"{k}={v}" for k, v in self._env().items()],
                        "/usr/lib/rabbitmq/bin/rabbitmq-server", "-detached"],
                       check=True, capture_output=True, timeout=60)

    def kill(self) -> None:
        """SIGKILL the node's Erlang VM, as when its machine dies."""
        deadline = time.monotonic() + 10
        while not (self.dir / "pid").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        os.kill(int((self.dir / "pid").read_text().strip()), signal.SIGKILL)

    def wait_accepting(self, timeout: float = 60) -> None:
        from kombu import Connection

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with Connection(self.amqp_uri, connect_timeout=1) as conn:
                    conn.ensure_connection(max_retries=1)
                    return
            except Exception:
                time.sleep(0.2)
        raise RuntimeError(f"the private RabbitMQ node {self.node} did not start in {timeout}s")

    def stop_app(self) -> None:
        """The broker goes away (connections closed, port closed); the Erlang node stays."""
        done = self.ctl("stop_app")
        assert done.returncode == 0, done.stderr

    def start_app(self) -> None:
        done = self.ctl("start_app")
        assert done.returncode == 0, done.stderr
        self.wait_accepting(30)

    def close(self) -> None:
        try:
            self.ctl("stop", timeout=60)
        except subprocess.TimeoutExpired:
            pass
        pid = self.dir / "pid"
        if pid.exists():  # stop could not reach it: make sure nothing of it is left
            try:
                os.kill(int(pid.read_text().strip()), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


class RabbitCluster:
    """Private RabbitMQ nodes (`PrivateRabbit`, each with its own name, ports and data) joined in one
    cluster for one test; never the shared broker."""

    def __init__(self, size: int = 3):
        tag = uuid.uuid4().hex[:6]
        self.nodes = [PrivateRabbit(f"agora-cluster-{tag}-{n}@localhost") for n in range(1, size + 1)]

    @property
    def ports(self) -> list[int]:
        return [n.port for n in self.nodes]

    def start(self, timeout: float = 90) -> "RabbitCluster":
        for node in self.nodes:
            node.launch()
        for node in self.nodes:
            node.wait_accepting(timeout)
        first = self.nodes[0].node
        for node in self.nodes[1:]:
            for args in (("stop_app",), ("join_cluster", first), ("start_app",)):
                done = node.ctl(*args)
                assert done.returncode == 0, f"{node.node} {args}: {done.stderr}"
            node.wait_accepting(timeout)
        return self

    def by_name(self, name: str) -> PrivateRabbit:
        return next(n for n in self.nodes if n.node == name)

    def leaders(self, via: PrivateRabbit | None = None) -> dict[str, str]:
        """Queue name -> the node leading it (quorum queues)."""
        import json

        done = (via or self.nodes[0]).ctl("list_queues", "name", "leader", "--formatter", "json")
        assert done.returncode == 0, done.stderr
        return {q["name"]: q["leader"] for q in json.loads(done.stdout or "[]") if q.get("leader")}

    def close(self) -> None:
        for node in reversed(self.nodes):
            node.close()


class TcpProxy:
    """127.0.0.1:<port> -> upstream, with the power to cut every connection and refuse new ones.

    The proxy runs in a process of its own (tests/fault/tcp_proxy.py, plain threads), away from the
    test process's eventlet hub, and obeys `cut` / `restore` lines on its standard input.
    """

    def __init__(self, upstream_host: str, upstream_port, port: int | None = None):
        """`upstream_port`: a port, or a list of ports tried in order for each new connection."""
        self.upstream = (upstream_host, ",".join(map(str, upstream_port)) if isinstance(upstream_port, list)
                         else upstream_port)
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> "TcpProxy":
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("tcp_proxy.py")), self.upstream[0],
             str(self.upstream[1]), str(self.port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, bufsize=1,
        )
        self._expect("listening")
        return self

    def _expect(self, word: str) -> None:
        line = self.process.stdout.readline().strip()
        if line != word:
            raise RuntimeError(f"the TCP proxy said {line!r}, expected {word!r}")

    def _tell(self, command: str, answer: str) -> None:
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        self._expect(answer)

    def cut(self) -> None:
        """Sever every connection and close the port: new connections are refused."""
        self._tell("cut", "cut")

    def restore(self) -> None:
        self._tell("restore", "listening")

    def close(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
