"""The tarball: what it holds, its checksum, its binary's libraries, and the binary at work where
no Swift toolchain can be found (`pgmcp check` and an MCP query over stdio, TCP and Unix socket)."""
import os
import re
import subprocess
import tarfile

import anyio
import pytest

from conftest import REPO, run, stdio_client, toolchain_folder, without_toolchain

# What the binary may name (NEEDED): libpq and the C/C++ runtime, nothing else.
ALLOWED = re.compile(r"libpq\.so\.5|libc\.so\.6|libm\.so\.6|libstdc\+\+\.so\.6|libgcc_s\.so\.1|ld-linux[-.\w]*\.so\.\d+|lib(dl|pthread|rt)\.so\.\d+")


@pytest.fixture(scope="module")
def unpacked(artifacts, version, arch, tmp_path_factory):
    folder = tmp_path_factory.mktemp("tarball")
    with tarfile.open(artifacts / f"pgmcp-{version}-linux-{arch}.tar.gz") as archive:
        archive.extractall(folder, filter="tar")
    return folder / f"pgmcp-{version}-linux-{arch}"


def test_holds_the_binary_config_example_docs_and_licenses(unpacked):
    names = {p.relative_to(unpacked).as_posix() for p in unpacked.rglob("*")}
    for name in ["pgmcp", "db-configs.example.json", "README.md", "docs/configuration.md", "docs/security.md", "THIRD-PARTY-LICENSES"]:
        assert name in names, f"{name} missing from the tarball: {sorted(names)}"
    assert os.access(unpacked / "pgmcp", os.X_OK)
    # The repository's own license, once it has one.
    assert ("LICENSE" in names) == (REPO / "LICENSE").exists()
    licenses = (unpacked / "THIRD-PARTY-LICENSES").read_text()
    for package in ["swift-nio", "hummingbird", "async-http-client", "Swift runtime", "libpg_query", "zlib"]:
        assert package in licenses


def test_checksums_verify(artifacts):
    result = run(["sha256sum", "-c", "SHA256SUMS"], cwd=artifacts)
    assert result.stdout.count(": OK") == 3, result.stdout


def test_links_only_libpq_and_the_c_runtime(unpacked):
    dynamic = run(["readelf", "-d", str(unpacked / "pgmcp")]).stdout
    needed = re.findall(r"\(NEEDED\).*\[(.*)\]", dynamic)
    assert "libpq.so.5" in needed
    assert [name for name in needed if not ALLOWED.fullmatch(name)] == [], needed
    assert "RPATH" not in dynamic and "RUNPATH" not in dynamic, "the binary must not look for libraries beside itself"
    loaded = run(["ldd", str(unpacked / "pgmcp")]).stdout
    assert "libswift" not in loaded and "not found" not in loaded, loaded


def test_version_names_the_version_and_commit(unpacked, version):
    line = run(without_toolchain([str(unpacked / "pgmcp"), "--version"])).stdout.strip()
    assert re.fullmatch(rf"{re.escape(version)} \(commit [0-9a-f]{{40}}(-dirty)?\)", line), line


def test_check_without_the_toolchain(unpacked, postgres, tmp_path):
    config = tmp_path / "dbs.json"
    postgres.write_config(config)
    env = {"PATH": "/usr/bin:/bin:/usr/sbin:/sbin", "DB_CONFIGS_FILE": str(config), "PGMCP_PACKAGING_PW": postgres.password}
    result = run(without_toolchain([str(unpacked / "pgmcp"), "check"]), env=env)
    rows = [line for line in result.stdout.splitlines() if line.startswith(("tcp", "socket"))]
    assert len(rows) == 2 and all(" ok " in f" {row} " for row in rows), result.stdout
    assert postgres.password not in result.stdout + result.stderr


def test_mcp_query_over_stdio_without_the_toolchain(unpacked, postgres, tmp_path):
    config = tmp_path / "dbs.json"
    postgres.write_config(config)
    command = without_toolchain([str(unpacked / "pgmcp"), "serve", "--transport", "stdio"])
    env = {"DB_CONFIGS_FILE": str(config), "PGMCP_PACKAGING_PW": postgres.password}

    async def session():
        async with stdio_client(command[0], command[1:], env) as client:
            assert client.server_info.name == "pgmcp"
            for database in ["tcp", "socket"]:
                result = await client.call_tool("query", {"sql": "SELECT 6 * 7 AS answer, current_setting('port') AS port", "database": database})
                assert not result.is_error, result.content
                assert result.structured_content["rows"] == [[42, str(postgres.port)]], result.structured_content

    anyio.run(session)


def test_the_toolchain_is_really_hidden(unpacked):
    """The namespace check itself: the runtime the binary would need without static linking is gone."""
    folder = toolchain_folder()
    probe = without_toolchain(["sh", "-c", 'ls -A "$0"; command -v swift || true', str(folder)])
    assert run(probe).stdout.strip() == ""
