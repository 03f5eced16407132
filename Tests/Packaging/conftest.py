"""Shared by the packaging tests: where the artifacts are, the throwaway PostgreSQL that
scripts/release --check started (the PGMCP_TEST_* variables, as for `swift test`), and an MCP
client over stdio. Run them through `scripts/release --check`."""
import json
import os
import pathlib
import platform
import shutil
import subprocess

import pytest
from mcp import Client, StdioServerParameters

REPO = pathlib.Path(__file__).resolve().parents[2]


def required(name):
    value = os.environ.get(name)
    if not value:
        pytest.exit(f"{name} is not set: run these tests through scripts/release --check", returncode=2)
    return value


@pytest.fixture(scope="session")
def artifacts():
    return pathlib.Path(required("PGMCP_ARTIFACTS"))


@pytest.fixture(scope="session")
def version():
    return required("PGMCP_VERSION")


@pytest.fixture(scope="session")
def arch():
    return platform.machine()


class Postgres:
    """The throwaway cluster: over TCP with the superuser's password, and over its Unix socket."""

    def __init__(self):
        self.host = required("PGMCP_TEST_HOST")
        self.port = int(required("PGMCP_TEST_PORT"))
        self.user = required("PGMCP_TEST_USER")
        self.password = required("PGMCP_TEST_PASSWORD")
        self.database = required("PGMCP_TEST_DATABASE")
        # start_cluster puts the socket in the cluster's folder, the parent of its data folder.
        self.socket_folder = str(pathlib.Path(required("PGMCP_TEST_PGDATA")).parent)

    @property
    def url(self):
        return f"postgresql://{self.user}:{self.password}@{self.host}:{self.port}/{self.database}"

    def entries(self, password_env="PGMCP_PACKAGING_PW"):
        """Two entries on the same cluster: `tcp` (password from an environment variable) and
        `socket` (the Unix socket, trusted locally)."""
        return [
            {"id": "tcp", "host": self.host, "port": self.port, "database": self.database, "user": self.user,
             "passwordEnv": password_env, "sslmode": "disable"},
            {"id": "socket", "host": self.socket_folder, "port": self.port, "database": self.database, "user": self.user},
        ]

    def write_config(self, path, **kwargs):
        pathlib.Path(path).write_text(json.dumps(self.entries(**kwargs), indent=2))


@pytest.fixture(scope="session")
def postgres():
    return Postgres()


def toolchain_folder():
    """The Swift toolchain's folder (…/usr's parent), to hide; None where no toolchain is found."""
    swift = shutil.which("swift")
    if swift is None:
        return None
    usr = pathlib.Path(swift).resolve().parents[1]
    # A toolchain installed straight into /usr cannot be hidden whole: hide its runtime then.
    return usr / "lib" / "swift" if usr.parent == pathlib.Path("/") else usr.parent


def without_toolchain(command):
    """`command` in a mount namespace of its own where an empty tmpfs covers the toolchain, after
    checking from inside that the Swift runtime is gone."""
    folder = toolchain_folder()
    assert folder is not None and folder.is_dir(), "no Swift toolchain found to hide"
    script = (
        'mount -t tmpfs pgmcp-no-swift "$0" && [ -z "$(ls -A "$0")" ] && ! command -v swift >/dev/null'
        ' || { echo "the toolchain is still visible" >&2; exit 97; }; exec "$@"'
    )
    return ["unshare", "--mount", "--", "sh", "-c", script, str(folder), *command]


def run(command, env=None, check=True, **kwargs):
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120, **kwargs)
    if check and result.returncode != 0:
        raise AssertionError(f"{command} exited {result.returncode}\nstdout: {result.stdout}\nstderr: {result.stderr}")
    return result


def stdio_client(command, args, env):
    """The official SDK's client over stdio, with the initialize handshake (mode="legacy")."""
    return Client(StdioServerParameters(command=command, args=args, env=env), mode="legacy", read_timeout_seconds=60)
