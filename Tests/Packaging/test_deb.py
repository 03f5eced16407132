"""The Debian package on this machine: installed with dpkg -i, its unit accepted by
systemd-analyze, its configuration readable by the service's user alone, kept over an upgrade, a
reinstall and a removal, and gone on purge. The steps run in order; the machine is left as it was
(package purged, the pgmcp user removed) whatever happens."""
import grp
import json
import os
import pathlib
import pwd
import shutil
import stat
import subprocess

import pytest

from conftest import run
from service import ENV, UNIT, HTTPClient, allowed_calls, as_service, free_port, run_as_service, traced_session

ETC = pathlib.Path("/etc/pgmcp")
CONFIG = ETC / "db-configs.json"

pytestmark = pytest.mark.skipif(os.geteuid() != 0 or shutil.which("dpkg") is None, reason="needs root and dpkg")


def status():
    """dpkg's two-letter status of pgmcp ("ii" installed, "rc" removed with its configuration), or None."""
    result = run(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", "pgmcp"], check=False)
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None


def user_exists(name="pgmcp"):
    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


@pytest.fixture(scope="module")
def deb(artifacts, version):
    arch = run(["dpkg", "--print-architecture"]).stdout.strip()
    path = artifacts / f"pgmcp_{version}_{arch}.deb"
    assert path.exists(), path
    if status() not in (None, "un"):
        pytest.fail("pgmcp is installed on this machine; this test would replace it (dpkg -P pgmcp first)")
    had_user = user_exists()
    yield path
    # Whatever happened: no package, no /etc/pgmcp, and no user unless it was there before.
    run(["dpkg", "-P", "pgmcp"], check=False)
    shutil.rmtree(ETC, ignore_errors=True)
    if not had_user and user_exists():
        run(["userdel", "pgmcp"], check=False)
        run(["groupdel", "pgmcp"], check=False)


@pytest.fixture(scope="module")
def upgrade(deb, version, tmp_path_factory):
    """The same package as a later version (`VERSION+upgrade1`), as an upgrade would bring."""
    folder = tmp_path_factory.mktemp("upgrade")
    tree = folder / "tree"
    run(["dpkg-deb", "-R", str(deb), str(tree)])
    control = tree / "DEBIAN" / "control"
    control.write_text(control.read_text().replace(f"Version: {version}\n", f"Version: {version}+upgrade1\n"))
    path = folder / "pgmcp-upgrade.deb"
    run(["dpkg-deb", "--root-owner-group", "-Zgzip", "-b", str(tree), str(path)])
    return path


def mode_and_owner(path):
    info = path.stat()
    return stat.S_IMODE(info.st_mode), pwd.getpwuid(info.st_uid).pw_name, grp.getgrgid(info.st_gid).gr_name


class TestLifecycle:
    def test_control_fields(self, deb, version):
        info = run(["dpkg-deb", "-I", str(deb)]).stdout
        assert f"Version: {version}\n" in info
        depends = next(line for line in info.splitlines() if line.strip().startswith("Depends:"))
        for package in ["libpq5", "libc6 (>=", "libstdc++6", "adduser"]:
            assert package in depends, depends
        assert "swift" not in depends.lower()
        assert run(["dpkg-deb", "-I", str(deb), "conffiles"]).stdout.split() == [str(CONFIG), str(ENV)]
        listing = run(["dpkg-deb", "-c", str(deb)]).stdout
        for path in ["./usr/bin/pgmcp", "./usr/lib/systemd/system/pgmcp.service", "./etc/pgmcp/db-configs.json", "./etc/pgmcp/pgmcp.env"]:
            assert path in listing, path

    def test_installs(self, deb, version):
        run(["dpkg", "-i", str(deb)])
        assert status() == "ii"
        assert run(["/usr/bin/pgmcp", "--version"]).stdout.startswith(f"{version} (commit ")
        user = pwd.getpwnam("pgmcp")
        assert user.pw_shell == "/usr/sbin/nologin" and user.pw_uid < 1000, user
        assert mode_and_owner(ETC) == (0o750, "root", "pgmcp")
        assert mode_and_owner(CONFIG) == (0o640, "root", "pgmcp")
        assert mode_and_owner(ENV) == (0o640, "root", "pgmcp")
        conffiles = run(["dpkg-query", "-W", "-f=${Conffiles}", "pgmcp"]).stdout
        assert str(CONFIG) in conffiles and str(ENV) in conffiles, conffiles

    def test_unit_is_accepted_by_systemd_analyze(self):
        # Works without systemd as PID 1 (as here, in a container): it loads and checks the unit file.
        verify = run(["systemd-analyze", "verify", str(UNIT)], check=False)
        assert verify.returncode == 0 and "pgmcp" not in verify.stderr, verify.stderr
        security = run(["systemd-analyze", "security", "--offline=true", str(UNIT)]).stdout
        exposure = float(security.rsplit("Overall exposure level for pgmcp.service:", 1)[1].split()[0])
        assert exposure <= 2.0, security

    def test_configuration_is_the_services_alone(self, postgres):
        CONFIG.write_text(json.dumps(postgres.entries(password_env="PGMCP_PW")[:1], indent=2))
        with ENV.open("a") as env:
            env.write(f"PGMCP_PW={postgres.password}\n")
        checked = run_as_service(["/usr/bin/pgmcp", "check"])
        assert checked.returncode == 0 and " ok " in checked.stdout, checked.stdout + checked.stderr
        # Another unprivileged user reads neither file.
        for path in [CONFIG, ENV]:
            refused = run(["runuser", "-u", "nobody", "--", "cat", str(path)], check=False)
            assert refused.returncode != 0 and "Permission denied" in refused.stderr

    def test_serves_as_the_unit_runs_it(self):
        """ExecStart as the unit has it (user pgmcp, the environment file) answers on /mcp, queries,
        and stops cleanly on SIGTERM (what systemctl stop sends)."""
        port = free_port()
        server = subprocess.Popen(stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **as_service(["/usr/bin/pgmcp", "serve", "--port", str(port)]))
        try:
            client = HTTPClient(port)
            assert client.initialize(server)["serverInfo"]["name"] == "pgmcp"
            result = client.call("query", {"sql": "SELECT current_user AS who"})
            assert not result.get("isError") and result["structuredContent"]["rows"], result
        finally:
            server.terminate()
            assert server.wait(timeout=30) == 0, "SIGTERM should stop it cleanly"

    def test_the_sandbox_allows_every_call_pgmcp_makes(self, tmp_path):
        """systemd is not PID 1 here, so the unit cannot run for real: instead every system call and
        socket family pgmcp uses (check, serve, a query, shutdown) is held against the unit's filters."""
        calls, families = traced_session(tmp_path / "trace")
        assert calls - allowed_calls() == set()
        # AF_NETLINK: glibc's getaddrinfo asks which address families the host has; refused, it
        # assumes both (checked by hand under a seccomp filter refusing it, as systemd's does).
        allowed_families = set(next(line for line in UNIT.read_text().splitlines() if line.startswith("RestrictAddressFamilies=")).split("=", 1)[1].split())
        assert families - allowed_families - {"AF_NETLINK"} == set(), families

    def test_upgrade_and_reinstall_keep_the_configuration(self, deb, upgrade, version):
        mine = CONFIG.read_text()
        run(["dpkg", "-i", str(upgrade)])
        assert run(["dpkg-query", "-W", "-f=${Version}", "pgmcp"]).stdout == f"{version}+upgrade1"
        assert CONFIG.read_text() == mine
        assert mode_and_owner(CONFIG) == (0o640, "root", "pgmcp")
        run(["dpkg", "-i", str(upgrade)])  # the same version again
        assert CONFIG.read_text() == mine and "PGMCP_PW=" in ENV.read_text()

    def test_remove_keeps_the_configuration(self):
        mine = CONFIG.read_text()
        run(["dpkg", "-r", "pgmcp"])
        assert status() == "rc"
        assert not pathlib.Path("/usr/bin/pgmcp").exists() and not UNIT.exists()
        assert CONFIG.read_text() == mine

    def test_reinstall_after_remove_finds_the_configuration(self, deb):
        mine = CONFIG.read_text()
        run(["dpkg", "-i", str(deb)])
        assert status() == "ii" and CONFIG.read_text() == mine
        assert run_as_service(["/usr/bin/pgmcp", "check"]).returncode == 0

    def test_purge_removes_the_configuration(self):
        run(["dpkg", "-P", "pgmcp"])
        assert status() in (None, "un")
        assert not ETC.exists()
        overrides = run(["dpkg-statoverride", "--list"]).stdout
        assert "/etc/pgmcp" not in overrides
