#!/usr/bin/env bash
# Makes sure this machine can run Ava's stack: the .NET SDK, and either a container engine (Docker or Podman)
# or local PostgreSQL and Redis binaries. Installs what is missing with apt where it can (as root or with
# passwordless sudo); otherwise says in one line what to install. Sourced by run.sh and test.sh.
set -euo pipefail

export DOTNET_NOLOGO=1
export DOTNET_CLI_TELEMETRY_OPTOUT=1

say() { echo "ava: $*" >&2; }

if ! command -v dotnet >/dev/null 2>&1; then
  say "the .NET 10 SDK is missing: install it from https://dot.net (see global.json for the version)."
  exit 1
fi

engine_answers() {
  local runtime
  for runtime in "${ASPIRE_CONTAINER_RUNTIME:-docker}" podman; do
    if command -v "$runtime" >/dev/null 2>&1 && timeout 10 "$runtime" info >/dev/null 2>&1; then
      return 0
    fi
  done
  return 1
}

# Ava:Infrastructure (appsettings, user-secrets or Ava__Infrastructure) may force a way; containers need nothing here.
wanted="${Ava__Infrastructure:-auto}"
if [ "$wanted" = "containers" ] || { [ "$wanted" != "local" ] && engine_answers; }; then
  return 0 2>/dev/null || exit 0
fi

have_postgres() {
  command -v postgres >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1 && return 0
  compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null
}
have_redis() { command -v redis-server >/dev/null 2>&1; }
need_user() { [ "$(id -u)" = 0 ] && ! getent passwd postgres >/dev/null; }

packages=()
have_postgres || packages+=(postgresql)
have_redis || packages+=(redis-server)

if [ ${#packages[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then sudo=(); elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo=(sudo); else sudo=(none); fi
  if [ "${sudo[*]:-}" = none ] || ! command -v apt-get >/dev/null 2>&1; then
    say "no container engine answers and ${packages[*]} is missing: install Docker or Podman, or ${packages[*]} (e.g. sudo apt-get install ${packages[*]})."
    exit 1
  fi
  say "no container engine answers: installing ${packages[*]} with apt to run Postgres and Redis locally."
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

# As root, Postgres runs as the unprivileged 'postgres' user (Debian's postgresql package creates it).
if need_user; then
  say "creating the unprivileged 'postgres' user that Postgres runs as."
  useradd --system --no-create-home --shell /usr/sbin/nologin postgres
fi
