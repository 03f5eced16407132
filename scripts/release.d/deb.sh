# The Debian package, with dpkg-deb alone (no debian/ source tree, no debhelper): /usr/bin/pgmcp, a
# sandboxed systemd unit, /etc/pgmcp as conffiles, and the maintainer scripts in packaging/debian.
# Sourced by scripts/release; defines functions only.

# build_deb BINARY VERSION STAGE OUT: writes OUT/pgmcp_VERSION_ARCH.deb and prints its path.
# STAGE holds what goes into the tarball too (docs, licenses).
build_deb() {
  local binary=$1 version=$2 stage=$3 out=$4 work root arch depends deb
  arch=$(dpkg --print-architecture)
  work=$(mktemp -d /tmp/pgmcp-deb.XXXXXX)
  # debian/pgmcp: where dpkg-shlibdeps expects a package's files (next to debian/control).
  root=$work/debian/pgmcp
  install -D -m 0755 "$binary" "$root/usr/bin/pgmcp"
  install -D -m 0644 packaging/debian/pgmcp.service "$root/usr/lib/systemd/system/pgmcp.service"
  # Conffiles: root-owned in the archive; postinst hands them to the pgmcp group (dpkg-statoverride).
  install -D -m 0640 db-configs.example.json "$root/etc/pgmcp/db-configs.json"
  install -D -m 0640 packaging/debian/pgmcp.env "$root/etc/pgmcp/pgmcp.env"
  chmod 0750 "$root/etc/pgmcp"
  mkdir -p "$root/usr/share/doc/pgmcp"
  cp -r "$stage/README.md" "$stage/docs" "$stage/THIRD-PARTY-LICENSES" "$root/usr/share/doc/pgmcp/"
  [ ! -f "$stage/LICENSE" ] || cp "$stage/LICENSE" "$root/usr/share/doc/pgmcp/copyright"
  install -d "$root/DEBIAN"
  install -m 0755 packaging/debian/postinst packaging/debian/prerm packaging/debian/postrm "$root/DEBIAN/"
  printf '/etc/pgmcp/db-configs.json\n/etc/pgmcp/pgmcp.env\n' >"$root/DEBIAN/conffiles"
  # The shared libraries' packages and lowest versions, as dpkg-shlibdeps reads them off the
  # binary's symbols: libc6, libgcc-s1, libpq5, libstdc++6.
  printf 'Source: pgmcp\n\nPackage: pgmcp\nArchitecture: any\n' >"$work/debian/control"
  depends=$(cd "$work" && dpkg-shlibdeps -O -edebian/pgmcp/usr/bin/pgmcp 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
  [ -n "$depends" ] || { log "dpkg-shlibdeps found no dependencies"; return 1; }
  cat >"$root/DEBIAN/control" <<CONTROL
Package: pgmcp
Version: $version
Architecture: $arch
Maintainer: ${PGMCP_MAINTAINER:-pgmcp maintainers <pgmcp@invalid>}
Installed-Size: $(du -sk --exclude=DEBIAN "$root" | cut -f1)
Depends: adduser, $depends
Recommends: ca-certificates
Section: database
Priority: optional
Description: MCP server for PostgreSQL, multi-database and session-aware
 pgmcp lets AI clients (Claude, Cursor, VS Code, agents) work on several named
 PostgreSQL databases over the Model Context Protocol: read-only by default and
 enforced by PostgreSQL, transactions across calls, per-session limits, OAuth.
 This package runs it as a sandboxed systemd service (pgmcp.service) on
 127.0.0.1:3000, configured in /etc/pgmcp.
CONTROL
  deb=$out/pgmcp_${version}_$arch.deb
  dpkg-deb --root-owner-group -Zxz --build "$root" "$deb" >/dev/null
  rm -rf "$work"
  echo "$deb"
}
