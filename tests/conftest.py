"""Fixtures shared by every test layer. Integration and e2e tests run on the real RabbitMQ and PostgreSQL,
each run in a vhost and a database of its own.

In-process nameko containers need eventlet's monkey patching; the web site's browser tests must not have
it (Playwright's sync API runs an asyncio loop that a green process starves), so `make test` runs
tests/web in a pytest of its own with AGORA_TESTS_GREEN=0: they only start processes and talk HTTP."""
import os

if os.environ.get("AGORA_TESTS_GREEN", "1") != "0":
    import eventlet

    eventlet.monkey_patch()

import pytest  # noqa: E402

from support import Api, Environment, Platform, service_names  # noqa: E402

os.environ.setdefault("PYTHONWARNINGS", "ignore")


@pytest.fixture(scope="session")
def environment():
    env = Environment()
    os.environ["DATABASE_URL"] = env.database_url
    os.environ["AMQP_URI"] = env.amqp_uri
    from services.common.config import reset_settings

    reset_settings()
    yield env
    env.close()


@pytest.fixture(scope="session")
def smtp_server(tmp_path_factory):
    """A real SMTP server on loopback receiving the platform's e-mail (tests/smtp_sink.py)."""
    from smtp_sink import SmtpSink

    sink = SmtpSink(tmp_path_factory.mktemp("mail")).start()
    yield sink
    sink.stop()


@pytest.fixture(scope="session")
def platform(environment, smtp_server, tmp_path_factory):
    """Every service and the gateway, started once for the e2e tests."""
    extra_env = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(smtp_server.port), "WEBHOOK_RETRY_BASE_SECONDS": "0.2"}
    running = Platform(environment, service_names(), extra_env=extra_env,
                       log_dir=tmp_path_factory.mktemp("logs")).start()
    yield running
    running.stop()


@pytest.fixture(scope="session")
def api(platform):
    return Api(platform.url)


@pytest.fixture
def city(api):
    return api.new_city()


@pytest.fixture
def rabbit_config(environment):
    """Config for in-process nameko containers (overrides nameko's fixture, which needs the management API)."""
    return {"AMQP_URI": environment.amqp_uri, "max_workers": 10, "serializer": "json"}
