"""Serving the emulator: in a running loop, from a background thread, or as a process."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import signal
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import kmock
import yaml

from .emulator import DEFAULT_NAMESPACES, ApiServerEmulator
from .served import DEFAULT_CRDS_DIR

logger = logging.getLogger(__name__)


@contextlib.asynccontextmanager
async def serving(
        emulator: ApiServerEmulator | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
) -> AsyncIterator[tuple[str, ApiServerEmulator]]:
    """Serve an emulator (a default one if None) in the running loop; yield its URL and itself."""
    emulator = emulator if emulator is not None else ApiServerEmulator()
    async with emulator, kmock.Server(emulator, host=host, port=port) as server:
        try:
            yield f"http://{server.host}:{server.port}", emulator
        finally:
            emulator.close_watches()
            await asyncio.sleep(0.1)  # let the streams end before the server waits for them


@dataclasses.dataclass
class RunningEmulator:
    """An emulator served from a background thread (see `start_in_thread`)."""
    url: str
    emulator: ApiServerEmulator
    _loop: asyncio.AbstractEventLoop
    _stopping: asyncio.Event
    _thread: threading.Thread

    def stop(self, timeout: float = 10) -> None:
        """Close the watches and the server, and wait for the thread to end."""
        if self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopping.set)
            self._thread.join(timeout)

    def write_kubeconfig(self, path: Path | str) -> Path:
        return write_kubeconfig(path, self.url)

    def __enter__(self) -> RunningEmulator:
        return self

    def __exit__(self, *_: Any) -> None:
        self.stop()


def start_in_thread(
        emulator: ApiServerEmulator | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        timeout: float = 10,
) -> RunningEmulator:
    """Serve an emulator (a default one if None) from a thread with its own event loop."""
    emulator = emulator if emulator is not None else ApiServerEmulator()
    started = threading.Event()
    state: dict[str, Any] = {}

    async def serve_until_stopped() -> None:
        state["loop"] = asyncio.get_running_loop()
        state["stopping"] = asyncio.Event()
        try:
            async with serving(emulator, host=host, port=port) as (url, _):
                state["url"] = url
                started.set()
                await state["stopping"].wait()
        except BaseException as e:
            state["error"] = e
            raise
        finally:
            started.set()

    thread = threading.Thread(target=asyncio.run, args=(serve_until_stopped(),), name="kube-api-emulator", daemon=True)
    thread.start()
    if not started.wait(timeout):
        raise TimeoutError("The Kubernetes API emulator did not start in time.")
    if "error" in state:
        raise RuntimeError("The Kubernetes API emulator failed to start.") from state["error"]
    return RunningEmulator(state["url"], emulator, state["loop"], state["stopping"], thread)


def write_kubeconfig(path: Path | str, url: str, *, namespace: str = "default", name: str = "vigil-sandbox") -> Path:
    """Write a kubeconfig whose current context points at the URL, with no credentials."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": url}}],
        "users": [{"name": name, "user": {}}],
        "contexts": [{"name": name, "context": {"cluster": name, "user": name, "namespace": namespace}}],
        "current-context": name,
    }, sort_keys=False))
    return path


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m vigil.sandbox.kube``: serve the emulator until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(
        prog="python -m vigil.sandbox.kube",
        description="A Kubernetes API server emulator for the sandbox, served over plain HTTP.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=6443)
    parser.add_argument("--crds", type=Path, default=DEFAULT_CRDS_DIR, help="a directory of CRD YAML files")
    parser.add_argument("--namespace", action="append", default=[], help="a namespace to create (repeatable)")
    parser.add_argument("--kubeconfig", type=Path, help="write a kubeconfig pointing at the emulator here")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.crds.is_dir():
        parser.error(f"no such CRD directory: {args.crds}")

    async def serve() -> None:
        stopping = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            asyncio.get_running_loop().add_signal_handler(signum, stopping.set)
        emulator = ApiServerEmulator(
            crds_dir=args.crds, namespaces=args.namespace or DEFAULT_NAMESPACES, request_log_size=1000,
        )
        async with serving(emulator, host=args.host, port=args.port) as (url, _):
            if args.kubeconfig:
                write_kubeconfig(args.kubeconfig, url)
            logger.info("Serving the Kubernetes API emulator at %s with %d resources.", url, len(emulator.resources))
            await stopping.wait()

    asyncio.run(serve())
    return 0
