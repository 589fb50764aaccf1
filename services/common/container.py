"""The service container of every Agora process (config.yaml: SERVICE_CONTAINER_CLS): nameko's, with a
stop that runs once and ends in time.

`nameko run` answers every SIGTERM with a new `ServiceRunner.stop()`, and the runner stops every
container again when one of them dies; nameko's `ServiceContainer.stop()` guards against a container
already stopped or being killed, not against one still stopping. Under `make run` a SIGTERM to the
process group arrives twice (the group's, and make's own to its child), so a busy platform was stopped
twice at once: timers stopped twice ("Trying to re-send() an already-triggered event"), consumers
cancelled twice (`KeyError: <RpcConsumer>` in the queue consumer's thread, which then died), and the
second stop waited for the first forever. Here a second stop waits for the first one to finish.

A graceful stop waits for the workers in flight, and a worker may wait long (an SMTP server that does not
answer, a client that keeps a connection busy). Past `SHUTDOWN_GRACE_SECONDS` (20 by default, within the
30 s Kubernetes gives before SIGKILL) the container is killed instead: its unacknowledged messages go
back to their queues and uncommitted transactions roll back, so nothing is lost, only done again.
"""
from __future__ import annotations

import eventlet
from eventlet.event import Event
from nameko.containers import ServiceContainer as NamekoServiceContainer
from nameko.rpc import ReplyListener as NamekoReplyListener

from services.common import logs, queues
from services.common.config import settings


class ServiceContainer(NamekoServiceContainer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._stopped = None  # an Event once a stop has begun
        for extension in self.subextensions:
            # RpcProxy's reply queue made transient, so losing a broker node never strands a caller
            # (services/common/queues.py); the subclass only changes which queue `setup` declares
            if type(extension) is NamekoReplyListener:
                extension.__class__ = queues.ReplyListener

    def stop(self):
        if self._stopped is not None:
            self._stopped.wait()
            return
        self._stopped = Event()
        try:
            graceful = eventlet.spawn(super().stop)
            grace = settings().shutdown_grace_seconds
            with eventlet.Timeout(grace, False):
                graceful.wait()
                return
            logs.get(service=self.service_name).warning(
                "shutdown_overdue", grace_seconds=grace, workers=len(self._worker_threads),
                threads=sorted(set(self._managed_threads.values())))
            graceful.kill()
            self.kill()
        finally:
            self._stopped.send(None)
