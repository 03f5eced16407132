# scripts/release --check: the packaging tests (Tests/Packaging, pytest) against the artifacts just
# built and a throwaway PostgreSQL. Sourced by scripts/release; defines functions only.
. scripts/lib/python.sh

# check_artifacts OUT VERSION: exits with pytest's status.
check_artifacts() {
  local out=$1 version=$2 status
  [ "$(id -u)" = 0 ] || { log "scripts/release --check needs root: it installs the .deb and makes mount namespaces"; return 1; }
  # unshare (util-linux) hides the toolchain; systemd-analyze checks the unit (systemd need not run).
  local missing=()
  command -v unshare >/dev/null 2>&1 || missing+=(util-linux)
  command -v systemd-analyze >/dev/null 2>&1 || missing+=(systemd)
  command -v adduser >/dev/null 2>&1 || missing+=(adduser)
  # strace: the system calls pgmcp makes, held against the unit's filter.
  command -v strace >/dev/null 2>&1 || missing+=(strace)
  ensure_packages --python
  if [ ${#missing[@]} -gt 0 ]; then
    log "==> installing ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  ensure_test_python
  CHECK_WORK=$(mktemp -d /tmp/pgmcp-release-check.XXXXXX)
  trap 'stop_cluster "$CHECK_WORK"; rm -rf "$CHECK_WORK"' EXIT
  start_cluster "$CHECK_WORK"
  export_test_env
  log "==> packaging tests (PostgreSQL on 127.0.0.1:$PG_PORT)"
  set +e
  PGMCP_ARTIFACTS=$out PGMCP_VERSION=$version "$TEST_PYTHON" -m pytest -v -p no:cacheprovider Tests/Packaging
  status=$?
  set -e
  return $status
}
