#!/usr/bin/env python3
"""Writes THIRD-PARTY-LICENSES: the license (and NOTICE) of every package the release binary is
built from, plus the Swift runtime, libpg_query and zlib, which are linked into it. Apache-2.0
and MIT ask for their text to travel with binary copies; this file is how it does.

Usage: notices.py TOOLCHAIN_USR < show-dependencies.json > THIRD-PARTY-LICENSES
Reads `swift package show-dependencies --format json` on stdin; the packages reached only
through a test dependency (swift-sdk, the test client) are left out. TOOLCHAIN_USR is the Swift
toolchain's usr folder (where its license is).
"""
import json
import pathlib
import sys

TEST_ONLY = {"swift-sdk"}
# Linked in as well, from the toolchain and the distribution's -dev packages.
SYSTEM = [
    ("Swift runtime and Foundation (--static-swift-stdlib)", "{toolchain}/share/swift/LICENSE.txt"),
    ("libpg_query (PostgreSQL's parser)", "/usr/share/doc/libpg-query-dev/copyright"),
    ("zlib", "/usr/share/doc/zlib1g/copyright"),
]


def packages(node, seen):
    for child in node["dependencies"]:
        if child["identity"] in TEST_ONLY or child["identity"] in seen:
            continue
        seen[child["identity"]] = child
        packages(child, seen)
    return seen


def license_files(folder):
    return sorted(p for p in folder.iterdir() if p.is_file() and p.name.upper().startswith(("LICENSE", "LICENCE", "NOTICE", "COPYING")))


def main():
    root = json.load(sys.stdin)
    out = ["Third-party software in pgmcp, with its licenses.\n"]
    for identity, node in sorted(packages(root, {}).items()):
        files = license_files(pathlib.Path(node["path"]))
        if not files:
            sys.exit(f"no license file in {node['path']} ({identity})")
        out.append(f"\n{'=' * 78}\n{identity} {node.get('version', '')} — {node['url']}\n{'=' * 78}\n")
        out += [f.read_text(errors="replace") for f in files]
    for title, path in SYSTEM:
        out.append(f"\n{'=' * 78}\n{title}\n{'=' * 78}\n")
        out.append(pathlib.Path(path.format(toolchain=sys.argv[1])).read_text(errors="replace"))
    sys.stdout.write("".join(out))


if __name__ == "__main__":
    main()
