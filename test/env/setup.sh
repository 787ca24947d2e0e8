#!/usr/bin/env bash
# Prepare a machine for stackd's tests: a Docker engine, compose v2 and v1, busybox test images,
# promtool, and the real peers of issue 13's tests (age, sshd, a registry, htpasswd) and of issue 17 (chromium). Idempotent: when everything is present it only checks and returns in a few seconds.
# On a host that already runs Docker with compose it installs nothing.
set -euo pipefail

log() { printf 'test-env: %s\n' "$*" >&2; }
die() { printf 'test-env: error: %s\n' "$*" >&2; exit 1; }

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
# Compose v2 goes system-wide, where a service user finds it too: stackd never runs a plugin
# from inside its data directory (where the old unit put HOME), and one test checks that.
PLUGIN_DIR=/usr/local/lib/docker/cli-plugins
SYSTEM_PLUGIN_DIRS=(/usr/local/lib/docker/cli-plugins /usr/local/libexec/docker/cli-plugins /usr/lib/docker/cli-plugins /usr/libexec/docker/cli-plugins)
system_plugin() {
  local d
  for d in "${SYSTEM_PLUGIN_DIRS[@]}"; do
    if [ -x "$d/docker-compose" ] && "$d/docker-compose" version >/dev/null 2>&1; then return 0; fi
  done
  return 1
}
DOCKERD_LOG="${STACKD_TEST_DOCKERD_LOG:-/tmp/stackd-test-dockerd.log}"

apt_updated=0
apt_install() {
  command -v apt-get >/dev/null || die "missing $*; install them (no apt-get on this machine)"
  if [ "$apt_updated" -eq 0 ]; then
    log "apt-get update"
    $SUDO apt-get update -qq >/dev/null
    apt_updated=1
  fi
  log "installing $*"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

engine_up() { timeout 5 docker info >/dev/null 2>&1; }

# One binary out of a package of the next Debian release (trixie), installed as `dest` without
# installing the package: the mirror is the one this machine's apt sources name.
from_trixie() {
  local package=$1 path=$2 dest=$3 src=/etc/apt/sources.list.d/debian.sources uri="" work deb
  if [ -f "$src" ]; then
    uri=$(awk '/^URIs:/ {print $2; exit}' "$src")
  elif [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1=="deb" && $0 !~ /security/ {print $2; exit}' /etc/apt/sources.list)
  fi
  [ -n "$uri" ] || die "cannot find a Debian mirror in the apt sources"
  work=$(mktemp -d)
  mkdir -p "$work/lists/partial" "$work/archives/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie main" >"$work/sources.list"
  local opts=(-o Dir::Etc::SourceList="$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
              -o Dir::State::Lists="$work/lists" -o APT::Get::List-Cleanup=0)
  $SUDO apt-get "${opts[@]}" update -qq >/dev/null
  (cd "$work" && apt-get "${opts[@]}" download "$package" >/dev/null)
  deb=$(ls "$work/${package}"_*.deb | head -n1)
  dpkg -x "$deb" "$work/x"
  $SUDO mkdir -p "$(dirname "$dest")"
  $SUDO install -m 0755 "$work/x/$path" "$dest"
  rm -rf "$work"
}

# 1. Packages. The engine (docker.io) only when this machine has no Docker at all; compose v1,
#    busybox (test images), git and shellcheck (the demo script's lint) are test tools. Nothing
#    is installed when all are present.
need=()
if ! command -v dockerd >/dev/null && ! engine_up; then need+=(docker.io); fi
command -v docker-compose >/dev/null || need+=(docker-compose)
command -v busybox >/dev/null || [ -x /bin/busybox ] || need+=(busybox-static)
command -v git >/dev/null || need+=(git)
command -v shellcheck >/dev/null || need+=(shellcheck)
# test/deploy/journald.test.ts runs a private systemd-journald; test/cli/logs.test.ts a pty (script).
[ -x /lib/systemd/systemd-journald ] && command -v journalctl >/dev/null && command -v systemd-cat >/dev/null || need+=(systemd)
command -v script >/dev/null || need+=(bsdutils)
command -v unshare >/dev/null || need+=(util-linux)
# Real repositories (issue 13): age keys, an sshd for SSH Git sources (the tests start their own
# on loopback), a registry with htpasswd auth on loopback.
command -v age >/dev/null && command -v age-keygen >/dev/null || need+=(age)
[ -x /usr/sbin/sshd ] || need+=(openssh-server)
command -v git-shell >/dev/null || need+=(git)
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v htpasswd >/dev/null || need+=(apache2-utils)
# The status page's browser tests (issue 17): Debian's headless Chromium, driven by playwright-core.
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  # Packages that ship a service (sshd, the registry) must not start it on this host: the tests
  # start their own on loopback ports. policy-rc.d tells the maintainer scripts not to.
  policy=/usr/sbin/policy-rc.d
  made_policy=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null
    $SUDO chmod 0755 "$policy"
    made_policy=1
  fi
  apt_install "${need[@]}"
  [ "$made_policy" -eq 0 ] || $SUDO rm -f "$policy"
fi

# 2. Compose v2 as a system-wide CLI plugin (only when no system plugin directory has one): the
#    user's own plugin if it works, else the next Debian release's docker-compose package.
if ! system_plugin; then
  user_plugin="${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins/docker-compose"
  if [ -x "$user_plugin" ] && "$user_plugin" version >/dev/null 2>&1; then
    log "installing $user_plugin system-wide ($PLUGIN_DIR)"
    $SUDO mkdir -p "$PLUGIN_DIR"
    $SUDO install -m 0755 "$user_plugin" "$PLUGIN_DIR/docker-compose"
  else
    command -v apt-get >/dev/null || die "compose v2 is missing and this is not Debian; install the docker compose plugin"
    log "fetching compose v2 from the trixie docker-compose package"
    from_trixie docker-compose usr/libexec/docker/cli-plugins/docker-compose "$PLUGIN_DIR/docker-compose"
  fi
  docker compose version >/dev/null || die "compose v2 plugin installed but 'docker compose version' fails"
fi

# 2b. promtool (alert rule tests), taken out of Debian's prometheus package without installing
#     the Prometheus server itself (which would start a service on a real host).
if ! command -v promtool >/dev/null; then
  command -v apt-get >/dev/null || die "promtool is missing; install it (Debian/Ubuntu package prometheus)"
  work=$(mktemp -d)
  [ "$apt_updated" -eq 1 ] || { $SUDO apt-get update -qq >/dev/null; apt_updated=1; }
  log "fetching promtool from the prometheus package"
  (cd "$work" && apt-get download prometheus >/dev/null 2>&1)
  dpkg -x "$(ls "$work"/prometheus_*.deb | head -n1)" "$work/x"
  $SUDO install -m 0755 "$work/x/usr/bin/promtool" /usr/local/bin/promtool
  rm -rf "$work"
  promtool --version >/dev/null || die "promtool installed but does not run"
fi

# 3. The engine: start dockerd in the background if none answers.
if ! engine_up; then
  [ -z "${DOCKER_HOST:-}" ] || die "DOCKER_HOST=$DOCKER_HOST does not answer; start that engine or unset DOCKER_HOST"
  log "starting dockerd (log: $DOCKERD_LOG)"
  ( $SUDO setsid dockerd >"$DOCKERD_LOG" 2>&1 </dev/null & )
  for _ in $(seq 1 60); do engine_up && break; sleep 1; done
  engine_up || die "dockerd did not answer within 60 s; see $DOCKERD_LOG"
fi

# 4. Test images, made with docker import from busybox-static (no registry needed).
bb=$(command -v busybox || echo /bin/busybox)
for v in 1 2; do
  img="stackd-test/busybox:$v"
  docker image inspect "$img" >/dev/null 2>&1 && continue
  log "building $img"
  root=$(mktemp -d)
  mkdir -p "$root/bin" "$root/tmp" "$root/etc" "$root/www"
  cp "$bb" "$root/bin/busybox"
  for app in sh sleep httpd wget cat echo ls touch date true false kill; do ln -s busybox "$root/bin/$app"; done
  echo "$v" >"$root/version"
  echo "root:x:0:0:root:/root:/bin/sh" >"$root/etc/passwd"
  echo "stackd test image $v" >"$root/www/index.html"
  tar -C "$root" -c . | docker import -c 'ENV PATH=/bin' -c 'CMD ["sleep","3600"]' - "$img" >/dev/null
  rm -rf "$root"
done

log "ready: $(docker version --format 'engine {{.Server.Version}}'), $(docker compose version --short 2>/dev/null | sed 's/^/compose v2 /'), $(docker-compose version --short 2>/dev/null | sed 's/^/compose v1 /')"
