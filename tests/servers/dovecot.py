"""A real IMAP server for the tests: Dovecot (Debian's dovecot-imapd) on a loopback port.

Each instance has its own configuration, mail and runtime folders in a temporary
directory, plain authentication on loopback only, and one test user. Test messages are
delivered by IMAP APPEND, as a mail client would file them. ``.ci/run`` installs the
package when it is missing; a test run without it fails (it does not skip).
"""

from __future__ import annotations

import contextlib
import grp
import imaplib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER = "practice"
PASSWORD = "s3cret-test"


@dataclass
class Dovecot:
    host: str
    port: int
    user: str
    password: str
    root: Path

    def log_text(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def connect(self) -> imaplib.IMAP4:
        imap = imaplib.IMAP4(self.host, self.port, timeout=10)
        imap.login(self.user, self.password)
        return imap

    def append(self, raw: bytes, folder: str = "INBOX") -> None:
        """Deliver one message (as a mail server would) by IMAP APPEND."""
        imap = self.connect()
        try:
            imap.create(folder)  # NO when it exists: fine
            status, detail = imap.append(folder, "", imaplib.Time2Internaldate(time.time()), raw)
            assert status == "OK", detail
        finally:
            imap.logout()

    def messages(self, folder: str) -> list[bytes]:
        """Every message in ``folder`` (empty when the folder does not exist)."""
        imap = self.connect()
        try:
            status, _ = imap.select(_quote(folder), readonly=True)
            if status != "OK":
                return []
            _, data = imap.uid("SEARCH", "ALL")
            out: list[bytes] = []
            for uid in data[0].split():
                _, parts = imap.uid("FETCH", uid, "(BODY.PEEK[])")
                out.extend(p[1] for p in parts if isinstance(p, tuple))
            return out
        finally:
            imap.logout()


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _accounts() -> tuple[str, str, int, int]:
    """Unprivileged accounts for Dovecot's own processes and the mail user."""
    uid, gid = os.getuid(), os.getgid()
    if uid != 0:
        return pwd.getpwuid(uid).pw_name, grp.getgrgid(gid).gr_name, uid, gid
    # As root (a CI container): the package's own unprivileged users.
    return "dovecot", "dovecot", pwd.getpwnam("dovenull").pw_uid, grp.getgrnam("dovenull").gr_gid


def _config(root: Path, port: int) -> str:
    internal, group, uid, gid = _accounts()
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_internal_group = {group}
default_login_user = {internal}
first_valid_uid = 0
mail_location = maildir:{root}/mail/%u:LAYOUT=fs
mail_uid = {uid}
mail_gid = {gid}
mail_privileged_group =
namespace inbox {{
  inbox = yes
  separator = /
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {root}/passwd
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service auth {{
  user = {internal}
}}
service auth-worker {{
  user = {internal}
}}
protocol imap {{
  mail_max_userip_connections = 100
}}
"""


@contextlib.contextmanager
def dovecot(root: Path) -> Iterator[Dovecot]:
    """Start a Dovecot instance in ``root``; stopped when the block ends."""
    port = _free_port()
    for sub in ("run", "state", "mail", "home"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    conf = root / "dovecot.conf"
    conf.write_text(_config(root, port))
    if os.getuid() == 0:
        _, _, uid, gid = _accounts()
        for path in [root, *root.rglob("*")]:
            os.chown(path, uid, gid)
            path.chmod(0o755 if path.is_dir() else 0o644)
        os.chown(root / "run", 0, 0)
    proc = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    server = Dovecot("127.0.0.1", port, USER, PASSWORD, root)
    try:
        _wait(server, proc)
        yield server
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _wait(server: Dovecot, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
            raise RuntimeError(f"dovecot exited ({proc.returncode}): {out}\n{server.log_text()}")
        try:
            server.connect().logout()
            return
        except (OSError, imaplib.IMAP4.error):
            time.sleep(0.1)
    raise RuntimeError(f"dovecot did not answer on {server.port}:\n{server.log_text()}")
