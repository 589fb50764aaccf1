"""Fault tests: each scenario runs its own platform processes in a database and broker vhost of its own,
breaks one part on loopback (a SIGKILL, a private broker node restarted, a TCP proxy cut in front of
PostgreSQL) and then proves from the database that nothing was lost, doubled or left half-written.

They never stop, restart or reconfigure the shared RabbitMQ or PostgreSQL servers.
"""
from __future__ import annotations

import pytest

from cluster import SERVICES, City, Proc, Scratch, service_modules
from support import Api

# A short RPC timeout keeps the scenarios quick; the gateway must answer 503 within it.
RPC_TIMEOUT = 2.0
FAULT_ENV = {"RPC_TIMEOUT": str(RPC_TIMEOUT), "LOG_LEVEL": "WARNING", "MAX_WORKERS": "20"}


class Cluster:
    """The platform as two processes: gamification alone (so it can be killed alone), and accounts,
    ideas, voting with the gateway."""

    def __init__(self, scratch: Scratch, log_dir, *, database_url=None, amqp_uri=None):
        kw = dict(extra_env=FAULT_ENV, log_dir=log_dir, database_url=database_url, amqp_uri=amqp_uri)
        self.gamification = Proc(scratch, service_modules("gamification"), name="gamification", **kw)
        self.core = Proc(scratch, service_modules("accounts", "ideas", "voting") + ["gateway.service"],
                         name="core", expected=list(SERVICES), **kw)
        self.api = Api(self.core.url)

    def start(self) -> "Cluster":
        self.gamification.start()
        self.core.start()
        return self

    def city(self, **kw) -> City:
        city = City(self.api, **kw)
        city.wait_voting_knows_ideas()
        return city

    def stop(self):
        for proc in (self.core, self.gamification):
            proc.stop()

    def logs(self) -> str:
        return "\n--- core ---\n" + self.core.log_tail(40) + "\n--- gamification ---\n" + self.gamification.log_tail(40)


@pytest.fixture
def scratch():
    s = Scratch()
    yield s
    s.close()


@pytest.fixture
def cluster(scratch, tmp_path):
    c = Cluster(scratch, tmp_path).start()
    yield c
    c.stop()
