# The tarball: everything a server or a desktop needs to run pgmcp, in one folder.
# Sourced by scripts/release; defines functions only.

# stage_files BINARY FOLDER: fills FOLDER with the stripped binary, the example
# configuration, the README, docs/, the LICENSE (when the repository has one) and the licenses of
# everything linked in. The tarball, the .deb and the bundle all take their files from here.
stage_files() {
  local binary=$1 folder=$2 toolchain
  rm -rf "$folder" && mkdir -p "$folder"
  # Symbols and debug information off: 90 MB instead of 190 (a crash report names no Swift
  # function without a toolchain anyway).
  strip -o "$folder/pgmcp" "$binary"
  cp db-configs.example.json README.md "$folder/"
  cp -r docs "$folder/docs"
  if [ -f LICENSE ]; then cp LICENSE "$folder/"; else log "warning: the repository has no LICENSE; the artifacts carry none"; fi
  toolchain=$(dirname "$(dirname "$(readlink -f "$(command -v swift)")")")
  swift package show-dependencies --format json 2>/dev/null | python3 scripts/release.d/notices.py "$toolchain" >"$folder/THIRD-PARTY-LICENSES"
}

# build_tarball FOLDER OUT: writes OUT/<folder name>.tar.gz (one top folder inside) and prints its path.
build_tarball() {
  local folder=$1 out=$2 name
  name=$(basename "$folder")
  # Owner and times fixed: the same commit gives the same listing wherever it is built.
  tar --owner=0 --group=0 --numeric-owner --sort=name -C "$(dirname "$folder")" -czf "$out/$name.tar.gz" "$name"
  echo "$out/$name.tar.gz"
}
