#!/usr/bin/env bash
# Install a built stackd (`make build`) on this host, or stage it into DESTDIR; `make install`
# builds dist/ if a source changed (npm ci first on a fresh clone) and runs this. See
# deploy/INSTALL.md.
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
#   NODE_MODULES   ci (default): `npm ci --omit=dev` from package-lock.json, from the npm registry
#                  (checked first with `npm ping`, 5 s); when it does not answer, from the npm
#                  cache alone, else it stops and names the registry. copy: copy the production
#                  packages out of this checkout's node_modules, which must be installed (`npm ci`)
#                  and not older than package-lock.json; no network at all
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
# The oldest Node.js stackd runs on: package.json's engines.node, which must read ">=X.Y.Z"
# (test/deploy/engines.test.ts holds every production dependency to it).
NODE_MIN=$(sed -n 's/^ *"node": *">= *\([0-9][0-9.]*\)" *$/\1/p' "$ROOT/package.json" | head -n 1)
[ -n "$NODE_MIN" ] || die "package.json: engines.node is not of the form \">=X.Y.Z\""
if [ "$NODE_MODULES" = copy ]; then
  # Checked before anything is written: copy takes node_modules as it is.
  [ -f "$ROOT/node_modules/.package-lock.json" ] ||
    die "NODE_MODULES=copy: $ROOT/node_modules is not installed (run 'npm ci' there, with the registry)"
  if [ "$ROOT/package-lock.json" -nt "$ROOT/node_modules/.package-lock.json" ]; then
    die "NODE_MODULES=copy: $ROOT/node_modules is older than package-lock.json (run 'npm ci' there)"
  fi
fi

NODE="${NODE:-$(command -v node || true)}"
[ -n "$NODE" ] || die "node is not installed (stackd needs Node.js $NODE_MIN or later); or set NODE=/path/to/node"
NODE=$(readlink -f "$NODE")
[ -x "$NODE" ] || die "NODE=$NODE is not executable"
"$NODE" -e '
  const want = process.argv[1].split(".").map(Number);
  const have = process.versions.node.split(".").map(Number);
  const i = want.findIndex((n, j) => have[j] !== n);
  process.exit(i === -1 || have[i] > want[i] ? 0 : 1);' "$NODE_MIN" ||
  die "$NODE is Node.js $("$NODE" --version); stackd needs $NODE_MIN or later"
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
npm_flags=(--omit=dev --ignore-scripts --no-audit --no-fund --no-update-notifier --loglevel=error)
if [ "$NODE_MODULES" = ci ]; then
  # npm's own defaults retry an unreachable registry for minutes: ask it once, briefly, first.
  registry=$(cd "$stage" && { npm config get registry 2>/dev/null || echo "(npm config get registry failed)"; })
  if ping_out=$(cd "$stage" && npm ping --fetch-timeout=5000 --fetch-retries=0 --no-update-notifier 2>&1); then
    say "npm ci --omit=dev (production dependencies from package-lock.json, $registry)"
    (cd "$stage" && npm ci "${npm_flags[@]}" --prefer-offline >/dev/null) ||
      die "npm ci --omit=dev failed (above); retry, or use NODE_MODULES=copy"
  else
    reason=$(printf '%s\n' "$ping_out" | sed -n 's/^npm error //p' |
      grep -Ev '^(code|errno|syscall) |^ |^[{}]|^$' | head -n 1 || true)
    warn "the npm registry $registry does not answer (npm ping: ${reason:-failed})"
    say "npm ci --omit=dev --offline (production dependencies from the npm cache alone)"
    (cd "$stage" && npm ci "${npm_flags[@]}" --offline >/dev/null 2>&1) ||
      die "the npm registry $registry is unreachable and the npm cache lacks packages:" \
        "install with NODE_MODULES=copy (copies this checkout's node_modules, no network)," \
        "or set npm_config_registry to a registry this host reaches"
  fi
else
  say "copying the production dependencies from node_modules"
  # Every production package at the top of node_modules (their own nested node_modules come with
  # them); the development tools (TypeScript, jest, eslint) stay behind. npm ls reads only
  # node_modules (--offline: not even the update check goes out); a missing or invalid
  # production package stops the install.
  ls_json=$(cd "$ROOT" && { npm ls --omit=dev --all --json --offline --no-update-notifier 2>/dev/null || true; })
  problems=$(printf '%s' "$ls_json" | "$NODE" -e '
    let text = ""; process.stdin.on("data", (d) => (text += d)).on("end", () => {
      let problems; try { ({ problems = [] } = JSON.parse(text)); } catch { problems = ["npm ls printed no JSON"]; }
      const bad = problems.filter((p) => /^(missing|invalid|npm ls)/.test(p));
      if (bad.length) console.log(bad.slice(0, 5).join("\n"));
    });')
  [ -z "$problems" ] ||
    die "NODE_MODULES=copy: $ROOT/node_modules does not hold every production dependency (run 'npm ci'):" \
      "$problems"
  (cd "$ROOT" && { npm ls --omit=dev --all --parseable --offline --no-update-notifier 2>/dev/null || true; }) |
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
       install -m 0600 /dev/null $CONFDIR/webhook-registry-token && \$EDITOR $CONFDIR/webhook-registry-token
       install -m 0600 /dev/null $CONFDIR/scm-token       && \$EDITOR $CONFDIR/scm-token
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
