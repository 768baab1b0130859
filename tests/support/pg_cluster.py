"""A PostgreSQL cluster of the test's own: ``initdb`` in a temporary directory, a free port,
and ``crash()`` / ``start()`` so a fault test can take the real server down under load and bring
it back on the same port, exactly as an operator's restart or a crash would.

PostgreSQL refuses to run as root, so as root (CI, containers) the cluster runs as the
``postgres`` system user through ``runuser``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from core.db.migrate import upgrade_to_head
from tests.support.requirements import missing
from tests.support.servers import free_port

DATABASE = "cipherslip"


def _pg_bin(name: str) -> str | None:
    """``initdb`` and ``pg_ctl`` live outside PATH on Debian (/usr/lib/postgresql/N/bin)."""
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for directory in versions:
        if (directory / name).exists():
            return str(directory / name)
    return None


@dataclass
class PostgresCluster:
    data_dir: Path
    port: int
    _run_as: list[str]
    _pg_ctl: str

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def _ctl(self, *args: str) -> None:
        subprocess.run([*self._run_as, self._pg_ctl, "-D", str(self.data_dir), "-w", *args],
                       check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        self._ctl("-l", str(self.data_dir / "server.log"),
                  "-o", f"-p {self.port} -k {self.data_dir} -c listen_addresses=127.0.0.1",
                  "start")

    def crash(self) -> None:
        """Stop as a crash would: every backend killed, no checkpoint (recovery on start)."""
        self._ctl("-m", "immediate", "stop")

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")


@contextmanager
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A fresh, migrated cluster; removed afterwards. Skips (fails in CI) without initdb."""
    initdb, pg_ctl, createdb = _pg_bin("initdb"), _pg_bin("pg_ctl"), _pg_bin("createdb")
    if initdb is None or pg_ctl is None or createdb is None:
        missing("PostgreSQL server binaries", "no initdb/pg_ctl (apt-get install postgresql)")
    assert initdb is not None and pg_ctl is not None and createdb is not None
    run_as: list[str] = []
    parent = tempfile.mkdtemp(prefix="cipherslip-pg-")
    data_dir = Path(parent) / "data"
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        run_as = ["runuser", "-u", "postgres", "--"]
        os.chown(parent, owner.pw_uid, owner.pw_gid)
    try:
        subprocess.run([*run_as, initdb, "-D", str(data_dir), "-U", "postgres",
                        "--auth=trust", "--no-sync", "-E", "UTF8"],
                       check=True, capture_output=True, timeout=120)
        cluster = PostgresCluster(data_dir, free_port(), run_as, pg_ctl)
        # fsync only protects against the machine failing; the server crashing keeps what
        # reached the OS. synchronous_commit is off as an operator tuning for speed might set
        # it: a crash then forgets commits that were already answered, unless the client
        # insists on durable commits (core.db.engine does: the crash test proves it).
        with (data_dir / "postgresql.auto.conf").open("a") as conf:
            conf.write("fsync = off\nfull_page_writes = off\nsynchronous_commit = off\n")
        cluster.start()
        try:
            subprocess.run([*run_as, createdb, "-h", "127.0.0.1", "-p", str(cluster.port),
                            "-U", "postgres", DATABASE], check=True, capture_output=True,
                           timeout=60)
            upgrade_to_head(cluster.url)
            yield cluster
        finally:
            with suppress(subprocess.CalledProcessError):  # already down
                cluster.stop()
    finally:
        shutil.rmtree(parent, ignore_errors=True)
