"""Real services the tests start themselves in temporary directories: PostgreSQL and haproxy.

Both come from Debian's packages, which `make test` installs. Without them the tests that need them skip,
unless KB_REQUIRE_POSTGRES / KB_REQUIRE_HAPROXY is set (as .ci/run does), when they fail instead.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

STARTUP_SECONDS = 60


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def require(program: str, variable: str, package: str) -> str:
    """The program's path; a skip without it, or a failure when `variable` says it must be there."""
    found = shutil.which(program) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{program}"))), None)
    if found:
        return found
    message = f"{program} is not installed (Debian package {package}; `make test` installs it)"
    if os.environ.get(variable):
        pytest.fail(message + f"; {variable} is set, so this is a failure")
    pytest.skip(message)


def wait_for_port(port: int, process: subprocess.Popen | None = None, seconds: float = STARTUP_SECONDS) -> None:
    """Until something accepts connections on the loopback port."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if (process is not None and process.poll() is not None) or time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on port {port}") from None
            time.sleep(0.2)


def children(pid: int) -> list[int]:
    """The processes whose parent is `pid` (gunicorn's workers of a master), from /proc."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
    return found


def kill_tree(pid: int) -> None:
    """SIGKILL a process and its children at once, as a crashed machine would stop them."""
    for target in [pid, *children(pid)]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(target, signal.SIGKILL)


class PostgresServer:
    """A throwaway PostgreSQL cluster on a loopback port, run by the `postgres` user when the tests are root."""

    def __init__(self, durable: bool = False):
        # Tests need no fsync (nothing here survives the run); the benchmarks measure the real cost.
        self.durable = durable
        self.initdb = require("initdb", "KB_REQUIRE_POSTGRES", "postgresql")
        self.pg_ctl = str(Path(self.initdb).with_name("pg_ctl"))
        self.root = Path(tempfile.mkdtemp(prefix="kb-postgres-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.user = "postgres" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        self._names = itertools.count(1)
        if os.geteuid() == 0:
            entry = pwd.getpwnam("postgres")
            os.chown(self.root, entry.pw_uid, entry.pw_gid)
        self._as_owner([self.initdb, "-D", str(self.data), "-A", "trust", "-U", self.user, "-E", "UTF8",
                        "--no-locale", "--no-sync"])
        self.start()

    def _as_owner(self, command: list[str]) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        result = subprocess.run(prefix + command, capture_output=True, text=True, timeout=120, check=False)
        if result.returncode:
            raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}\n{result.stderr}")

    def start(self) -> None:
        """Start (or restart) the server and wait until it accepts connections."""
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c max_connections=100"
                   " -c shared_buffers=32MB" + ("" if self.durable else " -c fsync=off -c full_page_writes=off"))
        self._as_owner([self.pg_ctl, "-D", str(self.data), "-l", str(self.root / "server.log"), "-o", options,
                        "-w", "-t", str(STARTUP_SECONDS), "start"])

    def stop(self, mode: str = "fast") -> None:
        """Stop the server; `immediate` is a crash (no checkpoint), `fast` a clean shutdown."""
        self._as_owner([self.pg_ctl, "-D", str(self.data), "-m", mode, "-w", "stop"])

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{self.user}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """The URL of a new, empty database."""
        import psycopg

        name = f"kb_test_{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}" STRATEGY FILE_COPY')
        return self.url(name)

    def close(self) -> None:
        with contextlib.suppress(RuntimeError):
            self.stop("immediate")
        shutil.rmtree(self.root, ignore_errors=True)


ROOT = Path(__file__).resolve().parent.parent
HAPROXY_CONFIG = ROOT / "deploy" / "haproxy.cfg"


class LoadBalancer:
    """deploy/haproxy.cfg as shipped, in front of two replicas, run in the foreground on a loopback port."""

    def __init__(self, replicas: list[str], log_file: Path):
        self.haproxy = require("haproxy", "KB_REQUIRE_HAPROXY", "haproxy")
        self.port = free_port()
        env = {**os.environ, "KB_LB_BIND": f"127.0.0.1:{self.port}",
               **{f"KB_REPLICA_{n}": replica.removeprefix("http://") for n, replica in enumerate(replicas, 1)}}
        with open(log_file, "wb") as output:
            self.process = subprocess.Popen([self.haproxy, "-db", "-f", str(HAPROXY_CONFIG)], stdout=output,
                                            stderr=subprocess.STDOUT, env=env)
        wait_for_port(self.port, self.process)
        self.base = f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
