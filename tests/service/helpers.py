"""The real ``calbridge run`` as a subprocess: its JSON log lines, a NOTIFY_SOCKET, HTTP."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

START_TIMEOUT = 60.0


class NotifySocket:
    """A unix datagram socket standing in for systemd's notification socket."""

    def __init__(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="cbn-")  # short: sun_path holds 108 bytes
        self.path = str(Path(self._dir) / "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.sock.settimeout(0.2)
        self.messages: list[tuple[float, str]] = []

    def drain(self) -> list[str]:
        while True:
            try:
                data = self.sock.recv(4096)
            except (TimeoutError, BlockingIOError):
                break
            self.messages.append((time.time(), data.decode()))
        return [m for _, m in self.messages]

    def wait_for(
        self, field: str, timeout: float = START_TIMEOUT, process: DaemonProcess | None = None
    ) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for message in self.drain():
                if field in message.split("\n"):
                    return message
            if process is not None and process.proc.poll() is not None:
                break
        log = process.text()[-4000:] if process else ""
        raise AssertionError(f"no {field} on NOTIFY_SOCKET; got {self.drain()!r}\n{log}")

    def fields(self) -> list[str]:
        return [f for m in self.drain() for f in m.split("\n")]

    def close(self) -> None:
        self.sock.close()
        with contextlib.suppress(OSError):
            Path(self.path).unlink()
            Path(self._dir).rmdir()


class DaemonProcess:
    """``python -m calbridge --config CONFIG run --log-json ...`` with its stderr collected."""

    def __init__(
        self,
        config: Path,
        *args: str,
        env: dict[str, str] | None = None,
        level: str = "debug",
        preexec_fn: Callable[[], None] | None = None,
    ) -> None:
        cmd = [sys.executable, "-m", "calbridge", "--config", str(config), "run", "--log-json"]
        cmd += ["--log-level", level, *args]
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("CALBRIDGE_")}
        full_env.pop("NOTIFY_SOCKET", None)
        full_env.update(env or {})
        self.proc = subprocess.Popen(
            cmd,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=full_env,
            preexec_fn=preexec_fn,
        )
        self.lines: list[str] = []
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._lock:
                self.lines.append(line)
                with contextlib.suppress(ValueError):
                    self.events.append(json.loads(line))

    @property
    def pid(self) -> int:
        return self.proc.pid

    def of(self, name: str, **match: Any) -> list[dict[str, Any]]:
        with self._lock:
            return [
                e
                for e in self.events
                if e.get("event") == name and all(e.get(k) == v for k, v in match.items())
            ]

    def wait_event(
        self,
        name: str,
        timeout: float = START_TIMEOUT,
        count: int = 1,
        where: Callable[[dict[str, Any]], bool] = lambda e: True,
        **match: Any,
    ) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e for e in self.of(name, **match) if where(e)]
            if len(found) >= count:
                return found
            if self.proc.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.05)
        raise AssertionError(f"no {count} x {name} {match} in time; log:\n{self.text()[-6000:]}")

    def port(self) -> int:
        return int(self.wait_event("daemon.started")[0]["port"])

    def get(self, path: str) -> tuple[int, str]:
        url = f"http://127.0.0.1:{self.port()}{path}"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()

    def signal(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 30) -> int:
        code = self.proc.wait(timeout)
        self._reader.join(5)
        return code

    def text(self) -> str:
        with self._lock:
            return "".join(self.lines)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(10)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@contextlib.contextmanager
def daemon(config: Path, *args: str, **kw: Any) -> Iterator[DaemonProcess]:
    proc = DaemonProcess(config, *args, **kw)
    try:
        yield proc
    finally:
        proc.stop()


def metric(text: str, name: str, **labels: str) -> float | None:
    """The value of one sample in Prometheus text format, or None if absent."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    prefix = f"{name}{{{want}}}" if labels else name
    for line in text.splitlines():
        if line.startswith(prefix + " "):
            return float(line.split()[-1])
    return None
