"""The MCP bundle: its manifest against the bundle specification's required fields and types
(manifest version 0.3), then unpacked and started the way a host (Claude Desktop) does: modes
restored from the zip, variables and user settings substituted into mcp_config, the command run
as a stdio server; initialize and a tool call over it."""
import json
import os
import re
import stat
import zipfile

import anyio
import pytest

from conftest import stdio_client

# Top-level keys manifest version 0.3 defines (unknown keys are refused by its schema).
KNOWN_KEYS = {
    "$schema", "dxt_version", "manifest_version", "name", "display_name", "version", "description", "long_description", "author",
    "repository", "homepage", "documentation", "support", "icon", "icons", "screenshots", "localization", "server", "tools",
    "tools_generated", "prompts", "prompts_generated", "keywords", "license", "privacy_policies", "compatibility", "user_config", "_meta",
}
USER_CONFIG_KEYS = {"type", "title", "description", "required", "default", "multiple", "sensitive", "min", "max"}
SEMVER = re.compile(r"\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?")


@pytest.fixture(scope="module")
def bundle(artifacts, version, arch):
    path = artifacts / f"pgmcp-{version}-linux-{arch}.mcpb"
    assert path.exists(), path
    return zipfile.ZipFile(path)


@pytest.fixture(scope="module")
def manifest(bundle):
    return json.loads(bundle.read("manifest.json"))


def is_str(value):
    return isinstance(value, str)


def is_str_list(value):
    return isinstance(value, list) and all(is_str(item) for item in value)


def test_manifest_has_the_required_fields_with_their_types(manifest, version):
    assert manifest["manifest_version"] == "0.3"
    assert set(manifest) <= KNOWN_KEYS, set(manifest) - KNOWN_KEYS
    for key in ["name", "version", "description"]:
        assert is_str(manifest[key]) and manifest[key], key
    assert SEMVER.fullmatch(manifest["version"]) and manifest["version"] == version
    author = manifest["author"]
    assert isinstance(author, dict) and is_str(author["name"]) and set(author) <= {"name", "email", "url"}
    server = manifest["server"]
    assert set(server) <= {"type", "entry_point", "mcp_config"}
    assert server["type"] == "binary" and is_str(server["entry_point"])
    config = server["mcp_config"]
    assert set(config) <= {"command", "args", "env", "platform_overrides"}
    assert is_str(config["command"]) and is_str_list(config.get("args", []))
    assert isinstance(config.get("env", {}), dict) and all(is_str(v) for v in config.get("env", {}).values())
    for key in ["display_name", "long_description", "license"]:
        assert key not in manifest or is_str(manifest[key]), key
    for key in ["tools_generated", "prompts_generated"]:
        assert key not in manifest or isinstance(manifest[key], bool), key
    assert is_str_list(manifest.get("keywords", []))
    assert set(manifest.get("compatibility", {}).get("platforms", [])) <= {"darwin", "win32", "linux"}


def test_user_settings_follow_the_spec_and_the_secret_is_sensitive(manifest):
    settings = manifest["user_config"]
    for key, option in settings.items():
        assert set(option) <= USER_CONFIG_KEYS, (key, set(option) - USER_CONFIG_KEYS)
        assert option["type"] in {"string", "number", "boolean", "directory", "file"}, key
        assert is_str(option["title"]) and is_str(option["description"]), key
        for flag in ["required", "multiple", "sensitive"]:
            assert flag not in option or isinstance(option[flag], bool), (key, flag)
        assert "default" not in option or isinstance(option["default"], (str, int, float, bool, list)), key
        # Every setting the command uses has a default: a host leaves `${user_config.x}` as it is
        # when the user set nothing and there is no default, and pgmcp would take it for a value.
        assert "default" in option, key
    assert settings["database_url"]["sensitive"] is True and settings["database_url"]["type"] == "string"
    assert settings["config_file"]["type"] == "file"
    env = manifest["server"]["mcp_config"]["env"]
    assert env == {"DB_CONFIGS_FILE": "${user_config.config_file}", "DATABASE_URL": "${user_config.database_url}"}
    assert manifest["server"]["mcp_config"]["args"] == ["serve", "--transport", "stdio"]


def test_entry_point_is_in_the_bundle_and_executable(bundle, manifest):
    info = bundle.getinfo(manifest["server"]["entry_point"])
    assert stat.S_IMODE(info.external_attr >> 16) & 0o111, "the binary must keep its execute bits in the zip"


def unpack(bundle, folder):
    """As a host unpacks it: every file, its Unix mode restored from the zip's attributes."""
    for info in bundle.infolist():
        bundle.extract(info, folder)
        mode = stat.S_IMODE(info.external_attr >> 16)
        if mode:
            os.chmod(folder / info.filename, mode)


def host_config(manifest, folder, user_values):
    """mcp_config as a host makes it: defaults, then the user's values, each `${user_config.KEY}`
    and `${__dirname}` substituted; a variable without a value is left as it is."""
    variables = {"__dirname": str(folder), "HOME": os.environ.get("HOME", "/root"), "/": "/", "pathSeparator": "/"}
    for key, option in manifest.get("user_config", {}).items():
        if "default" in option:
            variables[f"user_config.{key}"] = str(option["default"])
    variables.update({f"user_config.{key}": str(value) for key, value in user_values.items()})

    def substitute(text):
        return re.sub(r"\$\{([^}]+)\}", lambda m: variables.get(m.group(1), m.group(0)), text)

    config = manifest["server"]["mcp_config"]
    return substitute(config["command"]), [substitute(a) for a in config.get("args", [])], {k: substitute(v) for k, v in config.get("env", {}).items()}


def start_and_query(manifest, folder, user_values, password=None):
    command, args, env = host_config(manifest, folder, user_values)
    assert "${" not in command + " ".join(args) + " ".join(env.values())
    if password:
        env["PGMCP_PACKAGING_PW"] = password

    async def session():
        async with stdio_client(command, args, env) as client:
            assert client.server_info.name == "pgmcp" and client.server_info.version == manifest["version"]
            result = await client.call_tool("query", {"sql": "SELECT 'from the bundle' AS greeting"})
            assert not result.is_error, result.content
            assert result.structured_content["rows"] == [["from the bundle"]]
            return [tool.name for tool in (await client.list_tools()).tools]

    return anyio.run(session)


def test_starts_with_a_configuration_file(bundle, manifest, postgres, tmp_path):
    folder = tmp_path / "unpacked"
    unpack(bundle, folder)
    # One database, so `query` needs no database argument.
    config = tmp_path / "dbs.json"
    config.write_text(json.dumps(postgres.entries()[:1]))
    tools = start_and_query(manifest, folder, {"config_file": str(config)}, password=postgres.password)
    assert "query" in tools and "list_databases" in tools


def test_starts_with_a_database_url(bundle, manifest, postgres, tmp_path):
    folder = tmp_path / "unpacked"
    unpack(bundle, folder)
    start_and_query(manifest, folder, {"database_url": postgres.url})
