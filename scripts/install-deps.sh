#!/usr/bin/env bash
# Installs what crib's tests and benchmarks need on Debian bookworm (run as root).
# Idempotent and silent when everything is already there; one line per thing installed.
#
# - bookworm packages (runc, CNI plugins, registry, image tools, compiler) via apt-get;
# - containerd 2.x, which bookworm lacks: the sid .deb is only unpacked into
#   .cache/containerd-2/ (never installed, so the system keeps bookworm's libc and runc);
# - upstream CRI/containerd protos from sid into .cache/upstream-protos/ for wire tests.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$REPO/.cache"
CONTAINERD_DIR="$CACHE/containerd-2"
PROTOS_DIR="$CACHE/upstream-protos"
SID_SOURCES=/etc/apt/sources.list.d/crib-sid.sources
SID_PIN=/etc/apt/preferences.d/crib-pin

# iptables: the CNI portmap plugin shells out to it.
APT_PACKAGES=(runc containernetworking-plugins iptables docker-registry skopeo umoci busybox
  apache2-utils socat iproute2 util-linux gcc libc6-dev mount)
PROTO_PACKAGES=(golang-github-kubernetes-cri-api-dev golang-github-containerd-containerd-api-dev golang-github-containerd-cgroups-dev)

export DEBIAN_FRONTEND=noninteractive

say() { echo "install-deps: $*"; }
die() { echo "install-deps: error: $*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || die "must run as root (apt-get install, dpkg -x)"

# sid/trixie at priority 50: visible to apt-get download, never chosen for install or upgrade.
ensure_sid_sources() {
  if [[ ! -e $SID_SOURCES ]]; then
    cat >"$SID_SOURCES" <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: sid trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    say "added apt sources sid+trixie ($SID_SOURCES)"
    APT_LISTS_STALE=1
  fi
  if [[ ! -e $SID_PIN ]]; then
    cat >"$SID_PIN" <<'EOF'
Package: *
Pin: release n=sid
Pin-Priority: 50

Package: *
Pin: release n=trixie
Pin-Priority: 50
EOF
    say "pinned sid+trixie to priority 50 ($SID_PIN)"
  fi
}

APT_LISTS_STALE=0
APT_UPDATED=0
apt_update_once() {
  [[ $APT_UPDATED -eq 1 ]] && return 0
  apt-get update -qq >/dev/null || die "apt-get update failed"
  APT_UPDATED=1
  APT_LISTS_STALE=0
}

is_installed() {
  [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]
}

install_apt_packages() {
  local missing=() p
  for p in "${APT_PACKAGES[@]}"; do is_installed "$p" || missing+=("$p"); done
  [[ ${#missing[@]} -eq 0 ]] && return 0
  apt_update_once
  # No -t: the pins keep every package (and libc) on bookworm; never an upgrade.
  local log
  log="$(mktemp)"
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >"$log" 2>&1 \
    || { cat "$log" >&2; rm -f "$log"; die "apt-get install ${missing[*]} failed"; }
  rm -f "$log"
  for p in "${missing[@]}"; do say "installed $p $(dpkg-query -W -f='${Version}' "$p")"; done
}

# Highest version of $1 that apt knows from suite $2 (default sid; empty when none).
sid_version() {
  apt-cache madison "$1" 2>/dev/null | awk -F'|' -v suite=" ${2:-sid}/" 'index($3, suite) { gsub(/ /, "", $2); print $2 }' \
    | sort -V | tail -n1
}

sid_version_or_update() { # pkg [suite]
  local v
  v="$(sid_version "$1" "${2:-sid}")"
  if [[ -z $v ]]; then
    apt_update_once
    v="$(sid_version "$1" "${2:-sid}")"
  fi
  [[ -n $v ]] || die "no ${2:-sid} version of $1 known to apt (is $SID_SOURCES right?)"
  echo "$v"
}

# apt-get download drops privileges to _apt; give it a directory it may write.
download_and_extract() { # dest pkg=version...
  local dest="$1"; shift
  local tmp deb
  tmp="$(mktemp -d)"
  chown _apt "$tmp" 2>/dev/null || true
  (cd "$tmp" && apt-get download -qq "$@" >/dev/null 2>"$tmp/err") \
    || { cat "$tmp/err" >&2; rm -rf "$tmp"; die "apt-get download $* failed"; }
  mkdir -p "$dest"
  for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$dest"; done
  rm -rf "$tmp"
}

install_containerd2() {
  [[ -x $CONTAINERD_DIR/usr/bin/containerd && -x $CONTAINERD_DIR/usr/bin/containerd-shim-runc-v2 \
    && -x $CONTAINERD_DIR/usr/bin/ctr ]] && return 0
  local v
  v="$(sid_version_or_update containerd)"
  [[ $v == 2.* ]] || die "sid containerd is $v, expected 2.x"
  rm -rf "$CONTAINERD_DIR.tmp"
  download_and_extract "$CONTAINERD_DIR.tmp" "containerd=$v"
  echo "$v" >"$CONTAINERD_DIR.tmp/VERSION"
  rm -rf "$CONTAINERD_DIR"
  mv "$CONTAINERD_DIR.tmp" "$CONTAINERD_DIR"
  say "unpacked containerd $v into ${CONTAINERD_DIR#"$REPO"/}"
}

# containerd 1.7 (trixie) and 1.6 (bookworm) for the compatibility subset of the tests,
# unpacked the same way into .cache/containerd-1.7 and .cache/containerd-1.6.
install_old_containerd() { # minor suite
  local dir="$CACHE/containerd-$1" v
  [[ -x $dir/usr/bin/containerd && -x $dir/usr/bin/containerd-shim-runc-v2 && -x $dir/usr/bin/ctr ]] && return 0
  v="$(sid_version_or_update containerd "$2")"
  [[ $v == "$1".* ]] || die "$2 containerd is $v, expected $1.x"
  rm -rf "$dir.tmp"
  download_and_extract "$dir.tmp" "containerd=$v"
  echo "$v" >"$dir.tmp/VERSION"
  rm -rf "$dir"
  mv "$dir.tmp" "$dir"
  say "unpacked containerd $v into ${dir#"$REPO"/}"
}

install_upstream_protos() {
  local specs=() versions=() p v missing=0
  # Up to date when every package is listed (a package added later triggers a re-fetch).
  for p in "${PROTO_PACKAGES[@]}"; do
    grep -q "^$p " "$PROTOS_DIR/VERSIONS" 2>/dev/null || missing=1
  done
  [[ $missing -eq 0 ]] && return 0
  for p in "${PROTO_PACKAGES[@]}"; do
    v="$(sid_version_or_update "$p")"
    specs+=("$p=$v"); versions+=("$p $v")
  done
  rm -rf "$PROTOS_DIR.tmp"
  download_and_extract "$PROTOS_DIR.tmp" "${specs[@]}"
  printf '%s\n' "${versions[@]}" >"$PROTOS_DIR.tmp/VERSIONS"
  rm -rf "$PROTOS_DIR"
  mv "$PROTOS_DIR.tmp" "$PROTOS_DIR"
  say "unpacked upstream protos (${specs[*]}) into ${PROTOS_DIR#"$REPO"/}"
}

ensure_sid_sources
[[ $APT_LISTS_STALE -eq 1 ]] && apt_update_once
install_apt_packages
install_containerd2
install_old_containerd 1.7 trixie
install_old_containerd 1.6 bookworm
install_upstream_protos
