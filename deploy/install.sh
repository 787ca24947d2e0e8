#!/usr/bin/env bash
# Install a built stackd (`make build`) on this host, or stage it into DESTDIR; `make install`
# builds and runs this. See deploy/INSTALL.md.
#
#   sudo make install                        the real system: files, the stackd user
#   make install DESTDIR=/tmp/root           staged into /tmp/root (no user, no root needed)
#
# Lays out:
#   $PREFIX/lib/stackd/              dist/, production node_modules/, package.json, deploy/ (docs,
#                                    examples, dashboard, alert rules)
#   $PREFIX/bin/stackd               wrapper: exec node $PREFIX/lib/stackd/dist/cmd/stackd/main.js
#   $UNITDIR/stackd.service          the systemd unit (ExecStart adjusted to $PREFIX)
#   $SYSCONFDIR/stackd/config.yaml   deploy/config.example.yaml, only if absent (never overwritten)
# and, only when installing to the real system (no DESTDIR), the system user `stackd`, member of
# the group `docker`, with home /nonexistent. It does not run systemctl: the next steps are
# printed at the end.
#
# Variables (environment or make command line):
#   DESTDIR        staging root prepended to every path (default: none, the real system)
#   PREFIX         default /usr/local
#   SYSCONFDIR     default /etc
#   UNITDIR        default /etc/systemd/system
#   NODE           node binary the wrapper runs (default: `command -v node`, resolved at install)
#   NODE_MODULES   ci (default): `npm ci --omit=dev` from package-lock.json, needs the npm registry
#                  or a warm npm cache; copy: copy the production packages out of this
#                  checkout's node_modules (offline; they must be installed, `npm ci`)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DESTDIR="${DESTDIR:-}"
DESTDIR="${DESTDIR%/}"
PREFIX="${PREFIX:-/usr/local}"
PREFIX="${PREFIX%/}"
SYSCONFDIR="${SYSCONFDIR:-/etc}"
UNITDIR="${UNITDIR:-/etc/systemd/system}"
NODE_MODULES="${NODE_MODULES:-ci}"
USER_NAME=stackd
STATE_DIR=/var/lib/stackd

LIBDIR="$PREFIX/lib/stackd"
BINDIR="$PREFIX/bin"
CONFDIR="$SYSCONFDIR/stackd"

say() { printf 'install: %s\n' "$*"; }
warn() { printf 'install: warning: %s\n' "$*" >&2; }
die() { printf 'install: error: %s\n' "$*" >&2; exit 1; }

# --- checks ------------------------------------------------------------------------------------
[ -f "$ROOT/dist/cmd/stackd/main.js" ] || die "dist/ is missing: run 'make build' first (or 'make install')"
case "$PREFIX" in /*) ;; *) die "PREFIX must be an absolute path, got '$PREFIX'" ;; esac
if [ -z "$DESTDIR" ] && [ "$(id -u)" -ne 0 ]; then
  die "installing to the real system needs root (sudo make install), or stage it with DESTDIR=DIR"
fi
case "$NODE_MODULES" in ci | copy) ;; *) die "NODE_MODULES must be ci or copy, got '$NODE_MODULES'" ;; esac

NODE="${NODE:-$(command -v node || true)}"
[ -n "$NODE" ] || die "node is not installed (stackd needs Node.js 20 or later); or set NODE=/path/to/node"
NODE=$(readlink -f "$NODE")
[ -x "$NODE" ] || die "NODE=$NODE is not executable"
node_major=$("$NODE" -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || die "$NODE is Node.js $("$NODE" --version); stackd needs 20 or later"
case "$NODE" in
  /root/* | /home/*)
    warn "$NODE is under a home directory: the $USER_NAME user cannot run it (and the unit has"
    warn "ProtectHome=read-only); install Node.js system-wide and re-run, or set NODE=" ;;
esac

# --- program: $LIBDIR, built in a staging directory and swapped in -----------------------------
target="$DESTDIR$LIBDIR"
stage="$target.new.$$"
trap 'rm -rf "$stage"' EXIT
say "installing the program into $target"
mkdir -p "$(dirname "$target")"
rm -rf "$stage"
mkdir -p "$stage"
cp -R "$ROOT/dist" "$stage/dist"
# Source maps make stack traces readable; the TypeScript sources are not needed.
cp "$ROOT/package.json" "$ROOT/package-lock.json" "$stage/"
mkdir -p "$stage/deploy"
for f in INSTALL.md config.example.yaml systemd grafana prometheus examples; do
  [ -e "$ROOT/deploy/$f" ] && cp -R "$ROOT/deploy/$f" "$stage/deploy/"
done
npm_flags=(--omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
if [ "$NODE_MODULES" = ci ]; then
  say "npm ci --omit=dev (production dependencies from package-lock.json)"
  (cd "$stage" && npm ci "${npm_flags[@]}" --prefer-offline >/dev/null) ||
    die "npm ci failed (no registry and no npm cache?); retry with NODE_MODULES=copy"
else
  [ -d "$ROOT/node_modules" ] || die "NODE_MODULES=copy: $ROOT/node_modules is missing (run npm ci)"
  say "copying the production dependencies from node_modules"
  # Every production package at the top of node_modules (their own nested node_modules come with
  # them); the development tools (TypeScript, jest, eslint) stay behind.
  # (npm ls exits non-zero on warnings such as an unmet optional peer; the list is still right.)
  (cd "$ROOT" && { npm ls --omit=dev --all --parseable 2>/dev/null || true; }) |
    sed "s#^$ROOT/##" | grep -E '^node_modules/(@[^/]+/)?[^/]+$' | sort -u >"$stage/.packages"
  [ -s "$stage/.packages" ] || die "npm ls found no production dependencies in $ROOT/node_modules"
  tar -C "$ROOT" -cf - -T "$stage/.packages" | tar -C "$stage" -xf -
  rm -f "$stage/.packages"
fi
chmod -R u=rwX,go=rX "$stage"
chmod 0755 "$stage/dist/cmd/stackd/main.js"
upgrade=0
if [ -e "$target" ]; then
  upgrade=1
  rm -rf "$target.old"
  mv "$target" "$target.old"
fi
mv "$stage" "$target"
rm -rf "$target.old"
trap - EXIT

# --- wrapper -----------------------------------------------------------------------------------
say "installing $DESTDIR$BINDIR/stackd"
mkdir -p "$DESTDIR$BINDIR"
wrapper="$DESTDIR$BINDIR/stackd"
cat >"$wrapper.tmp" <<EOF
#!/bin/sh
# stackd wrapper, written by deploy/install.sh. Node.js: $NODE ($("$NODE" --version))
exec "$NODE" "$LIBDIR/dist/cmd/stackd/main.js" "\$@"
EOF
chmod 0755 "$wrapper.tmp"
mv "$wrapper.tmp" "$wrapper"

# --- systemd unit ------------------------------------------------------------------------------
say "installing $DESTDIR$UNITDIR/stackd.service"
mkdir -p "$DESTDIR$UNITDIR"
sed -e "s#/usr/local/bin/stackd#$BINDIR/stackd#g" \
  -e "s#/usr/local/lib/stackd#$LIBDIR#g" \
  -e "s#/etc/stackd/#$CONFDIR/#g" \
  "$ROOT/deploy/systemd/stackd.service" >"$DESTDIR$UNITDIR/stackd.service.tmp"
chmod 0644 "$DESTDIR$UNITDIR/stackd.service.tmp"
mv "$DESTDIR$UNITDIR/stackd.service.tmp" "$DESTDIR$UNITDIR/stackd.service"

# --- the user ----------------------------------------------------------------------------------
if [ -z "$DESTDIR" ]; then
  if id "$USER_NAME" >/dev/null 2>&1; then
    say "user $USER_NAME exists"
    # 0.1 made the state directory the home: whatever can write it (containers bind-mount its work
    # trees) could plant ~/.docker/cli-plugins for anyone running `sudo -u stackd docker`.
    if [ "$(getent passwd "$USER_NAME" | cut -d: -f6)" = "$STATE_DIR" ]; then
      say "moving the home of $USER_NAME out of $STATE_DIR (to /nonexistent)"
      usermod --home /nonexistent "$USER_NAME"
    fi
  else
    say "creating the system user $USER_NAME (home /nonexistent)"
    nologin=$(command -v nologin || echo /usr/sbin/nologin)
    useradd --system --user-group --home-dir /nonexistent --no-create-home \
      --shell "$nologin" --comment "stackd GitOps controller" "$USER_NAME"
  fi
  if getent group docker >/dev/null; then
    if ! id -nG "$USER_NAME" | tr ' ' '\n' | grep -qx docker; then
      say "adding $USER_NAME to the group docker (root-equivalent: see deploy/INSTALL.md)"
      usermod -a -G docker "$USER_NAME"
    fi
  else
    warn "there is no group docker (is Docker installed?): the unit's SupplementaryGroups=docker"
    warn "will fail until it exists; install Docker, then run: usermod -aG docker $USER_NAME"
  fi
else
  say "DESTDIR is set: not creating the user $USER_NAME (do it on the target host)"
fi

# --- configuration -----------------------------------------------------------------------------
mkdir -p "$DESTDIR$CONFDIR"
chmod 0755 "$DESTDIR$CONFDIR"
config="$DESTDIR$CONFDIR/config.yaml"
if [ -e "$config" ]; then
  say "keeping the existing $config"
else
  say "installing $config (from deploy/config.example.yaml)"
  install -m 0640 "$ROOT/deploy/config.example.yaml" "$config"
  if [ -z "$DESTDIR" ]; then chown "root:$USER_NAME" "$config"; fi
fi

# --- next steps --------------------------------------------------------------------------------
if [ -n "$DESTDIR" ]; then
  say "staged into $DESTDIR; copy it to the target host, create the user there (see INSTALL.md)"
  exit 0
fi
cat <<EOF

stackd is installed. Next steps:

  1. Edit $CONFDIR/config.yaml: at least source.url.
  2. Secrets, if needed (each optional; root-only files, passed to the service as credentials):
       install -m 0600 /dev/null $CONFDIR/source-token    && \$EDITOR $CONFDIR/source-token
       install -m 0600 /dev/null $CONFDIR/api-token       && \$EDITOR $CONFDIR/api-token
       install -m 0600 /dev/null $CONFDIR/webhook-secret  && \$EDITOR $CONFDIR/webhook-secret
       install -m 0600 /dev/null $CONFDIR/webhook-gitlab-token && \$EDITOR $CONFDIR/webhook-gitlab-token
     (16 characters or more each: openssl rand -hex 32)
  3. Make sure the compose v2 plugin is installed system-wide (/usr/libexec/docker/cli-plugins or
     /usr/local/lib/docker/cli-plugins; see $LIBDIR/deploy/INSTALL.md); stackd never runs one
     from a home directory inside $STATE_DIR:
       sudo -u $USER_NAME DOCKER_CONFIG=$STATE_DIR/docker docker compose version
  4. Check the configuration:
       sudo -u $USER_NAME $BINDIR/stackd config --config $CONFDIR/config.yaml
  5. Start it:
       systemctl daemon-reload
       systemctl enable --now stackd
       journalctl -u stackd -f
       stackd status
EOF
if [ "$upgrade" -eq 1 ]; then
  printf '\nThis was an upgrade: run "systemctl daemon-reload && systemctl restart stackd".\n'
fi
