# The release binary: release mode, the Swift runtime and Foundation linked in, and nothing shared
# beyond libpq and the C/C++ runtime. Sourced by scripts/release; defines functions only.

# How the Swift runtime gets in: --static-swift-stdlib, which links the toolchain's own static
# runtime and Foundation (swift_static/) against the distribution's glibc. Not the static Linux SDK
# (musl, fully static): it is not installed on these machines and cannot be downloaded here, and a
# fully static pgmcp would carry its own libpq and OpenSSL, which then miss the distribution's
# security updates. libpq stays the system's, shared, for the same reason.
#
# Two more C libraries would be shared otherwise: libpg_query (PostgreSQL's parser, no package of it
# is on a server) and zlib (AsyncHTTPClient's decompression, which we never turn on). Both link
# statically: the linker takes the first libX.so or libX.a it finds along its -L folders, SwiftPM
# puts libpq's pkg-config -L (the system's library folder) first, so a libpq.pc of our own puts a
# folder that holds only those two static archives before it.
static_link_folder() {
  local folder=$PWD/.build/release-link libdir
  libdir=$(pkg-config --variable=libdir libpq)
  rm -rf "$folder" && mkdir -p "$folder"
  ln -s "$libdir/libpg_query.a" "$folder/libpg_query.a"
  ln -s "$(pkg-config --variable=libdir zlib)/libz.a" "$folder/libz.a"
  sed "s|^Libs:|Libs: -L$folder|" "$(pkg-config --variable=pcfiledir libpq)/libpq.pc" > "$folder/libpq.pc"
  echo "$folder"
}

# The commit being built: its full hash, "-dirty" when tracked files differ from it (an artifact
# must not claim a commit it was not built from), or "unknown" outside a git checkout.
build_commit() {
  local commit
  commit=$(git rev-parse HEAD 2>/dev/null) || { echo unknown; return; }
  [ -z "$(git status --porcelain --untracked-files=no)" ] || commit+=-dirty
  echo "$commit"
}

# build_release_binary: builds and prints the binary's path. PGMCP_COMMIT is read by Package.swift,
# which hands it to one C file (Sources/CPGMCPCommit): a new commit recompiles that file alone.
build_release_binary() {
  local folder commit
  folder=$(static_link_folder)
  commit=$(build_commit)
  log "==> building pgmcp (release, --static-swift-stdlib) at commit $commit"
  PKG_CONFIG_PATH=$folder${PKG_CONFIG_PATH:+:$PKG_CONFIG_PATH} PGMCP_COMMIT=$commit \
    swift build -c release --product pgmcp --static-swift-stdlib --disable-local-rpath >&2
  echo "$(swift build -c release --show-bin-path)/pgmcp"
}

# check_linkage BINARY: fails unless every library the binary names itself (NEEDED) is libpq or part
# of the C/C++ runtime, and nothing it loads, directly or through libpq, comes from a Swift toolchain.
check_linkage() {
  local binary=$1 needed extra
  needed=$(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  extra=$(grep -Evx 'libpq\.so\.5|libc\.so\.6|libm\.so\.6|libstdc\+\+\.so\.6|libgcc_s\.so\.1|ld-linux[-.a-z0-9_]*\.so\.[0-9]+|lib(dl|pthread|rt)\.so\.[0-9]+' <<<"$needed" || true)
  if [ -n "$extra" ]; then
    log "the release binary needs more than libpq and the C/C++ runtime: $extra"
    return 1
  fi
  if ldd "$binary" | grep -E 'libswift|/swift/|not found' >&2; then
    log "the release binary still loads the Swift runtime from a toolchain, or misses a library"
    return 1
  fi
  log "    linked against: $(tr '\n' ' ' <<<"$needed")"
}
