"""A service whose work takes a while, to watch a graceful shutdown."""
import eventlet

from services.common.entrypoints import rpc
from services.common.observability import Observability


class Slowpoke:
    name = "slowpoke"
    obs = Observability()

    @rpc
    def nap(self, seconds):
        eventlet.sleep(seconds)
        return f"slept {seconds}"
