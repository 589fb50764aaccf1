"""A loopback TCP proxy that can cut every connection: `python tcp_proxy.py HOST PORT LISTEN_PORT`.

PORT may list several ports (`5701,5702,5703`): each new connection goes to the first that accepts it,
as a load balancer in front of a cluster's nodes does when one of them is down.

Reads commands on standard input, one per line, and answers on standard output:
`cut` -> closes the listening port and every proxied connection, answers "cut";
`restore` -> listens again on the same port, answers "listening". Prints "listening" once started.
"""
from __future__ import annotations

import socket
import sys
import threading


class Proxy:
    def __init__(self, upstream: tuple[str, int], port: int, more_upstreams: tuple = ()):
        self.upstream, self.port = upstream, port
        self.upstreams = [upstream, *more_upstreams]
        self.listener: socket.socket | None = None
        self.pairs: set = set()
        self.lock = threading.Lock()

    def listen(self) -> None:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", self.port))
        s.listen(256)
        self.listener = s
        threading.Thread(target=self.accept, args=(s,), daemon=True).start()

    def accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = None
            for upstream in self.upstreams:
                try:
                    server = socket.create_connection(upstream, timeout=5)
                    server.settimeout(None)
                    break
                except OSError:
                    continue
            if server is None:
                client.close()
                continue
            pair = (client, server)
            with self.lock:
                if self.listener is not listener:
                    client.close()
                    server.close()
                    return
                self.pairs.add(pair)
            threading.Thread(target=self.pipe, args=(client, server, pair), daemon=True).start()
            threading.Thread(target=self.pipe, args=(server, client, pair), daemon=True).start()

    def pipe(self, src: socket.socket, dst: socket.socket, pair) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        self.close_pair(pair)

    def close_pair(self, pair) -> None:
        with self.lock:
            self.pairs.discard(pair)
        for sock in pair:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self) -> None:
        with self.lock:
            listener, self.listener = self.listener, None
            pairs = list(self.pairs)
        if listener is not None:
            try:
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        for pair in pairs:
            self.close_pair(pair)


def main() -> None:
    host, ports, listen_port = sys.argv[1], [int(p) for p in sys.argv[2].split(",")], int(sys.argv[3])
    proxy = Proxy((host, ports[0]), listen_port, tuple((host, p) for p in ports[1:]))
    proxy.listen()
    print("listening", flush=True)
    for line in sys.stdin:
        command = line.strip()
        if command == "cut":
            proxy.cut()
            print("cut", flush=True)
        elif command == "restore":
            if proxy.listener is None:
                proxy.listen()
            print("listening", flush=True)
    proxy.cut()


if __name__ == "__main__":
    main()
