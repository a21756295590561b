"""``tillage serve --workers N``: N uvicorn processes, each accepting on a socket of its own.

uvicorn's own supervisor binds one socket and shares it: the processes then take turns at one
queue of new connections, and the busiest one, awake in its event loop, takes most of them
(Linux wakes the last waiter first). A kept-alive client stays with the process that accepted
it, so one process can hold nearly every busy client while the others idle: with 50 clients
on 2 cores, one worker served all 50 connections at 88 % of a core and the machine was a third
idle. Here every worker binds its own socket to the same address with ``SO_REUSEPORT``, and
the kernel spreads new connections over the listening sockets by a hash of the client's
address and port (:mod:`tillage.serving.admission` closes a connection now and then, so the
spread is renewed).

The parent binds the address first (without listening) to resolve port 0 and to fail at once
when the address is taken; it starts the workers as fresh processes (``spawn``), starts a new
one when one dies, stops all of them on SIGINT or SIGTERM, and stops with the worker's exit
status when one fails to start (the app cannot be built, the port cannot be bound). Without
``SO_REUSEPORT`` (Windows) uvicorn's supervisor serves instead.
"""

from __future__ import annotations

import multiprocessing
import signal
import socket
import threading
from typing import Any

from uvicorn import Config, Server
from uvicorn.config import STARTUP_FAILURE

from tillage.errors import ConfigurationError

HAS_REUSE_PORT = hasattr(socket, "SO_REUSEPORT")
STOP_WAIT = 30.0
"""Seconds a stopped worker has to finish its requests before it is killed."""
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host``:``port`` with ``SO_REUSEPORT`` (not yet listening)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)  # type: ignore[attr-defined]
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def serve_one(target: str, options: dict[str, Any]) -> None:
    """One worker (in its own process): its own socket on the shared address, then uvicorn."""
    options = {key: value for key, value in options.items() if key != "workers"}
    sock = listening_socket(options["host"], options["port"])
    Server(Config(target, **options)).run(sockets=[sock])


def run_workers(target: str, options: dict[str, Any], workers: int) -> int:
    """Serve ``target`` (uvicorn's import string and ``options``) with ``workers`` processes
    until SIGINT or SIGTERM; the exit status (uvicorn's startup failure status when a worker
    could not start). :class:`ConfigurationError` when the address cannot be bound."""
    try:
        probe = listening_socket(options["host"], options["port"])
    except OSError as exc:
        raise ConfigurationError(
            f"cannot listen on {options['host']}:{options['port']}: {exc.strerror}; "
            "choose another --port or stop what uses it"
        ) from exc
    options = {**options, "port": probe.getsockname()[1]}
    context = multiprocessing.get_context("spawn")
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in STOP_SIGNALS}

    def start() -> multiprocessing.process.BaseProcess:
        process = context.Process(target=serve_one, args=(target, options), name="tillage-worker")
        process.start()
        return process

    status = 0
    processes = [start() for _ in range(workers)]
    try:
        while not stop.wait(0.5):
            for index, process in enumerate(processes):
                if process.is_alive():
                    continue
                if process.exitcode == STARTUP_FAILURE:  # would fail the same way again
                    status = STARTUP_FAILURE
                    stop.set()
                    break
                processes[index] = start()
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # SIGTERM: uvicorn finishes the requests in progress
        for process in processes:
            process.join(STOP_WAIT)
            if process.is_alive():
                process.kill()
                process.join()
        probe.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return status
