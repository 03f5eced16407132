# The MCP bundle for Claude Desktop (and other hosts of the format): a zip of manifest.json
# (packaging/mcpb, manifest version 0.3 of the bundle specification) and the binary as a stdio
# server. Sourced by scripts/release; defines functions only.

# build_mcpb STAGE VERSION OUT: writes OUT/pgmcp-VERSION-linux-ARCH.mcpb and prints its path.
build_mcpb() {
  local stage=$1 version=$2 out=$3 work bundle files=(manifest.json server README.md db-configs.example.json THIRD-PARTY-LICENSES)
  work=$(mktemp -d /tmp/pgmcp-mcpb.XXXXXX)
  sed "s/@VERSION@/$version/" packaging/mcpb/manifest.json >"$work/manifest.json"
  # The binary keeps its mode in the zip (Unix attributes), which hosts restore when unpacking.
  install -D -m 0755 "$stage/pgmcp" "$work/server/pgmcp"
  cp "$stage/README.md" "$stage/db-configs.example.json" "$stage/THIRD-PARTY-LICENSES" "$work/"
  if [ -f "$stage/LICENSE" ]; then cp "$stage/LICENSE" "$work/" && files+=(LICENSE); fi
  bundle=$out/pgmcp-$version-linux-$(uname -m).mcpb
  rm -f "$bundle"
  (cd "$work" && zip -q -X -r "$bundle" "${files[@]}")
  rm -rf "$work"
  echo "$bundle"
}
