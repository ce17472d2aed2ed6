#!/usr/bin/env bash
# Makes sure this machine can run Ava's stack: the .NET SDK, and whatever the AppHost's choice of infrastructure
# lacks here. The AppHost alone chooses between containers and the machine's own PostgreSQL and Redis; asked, it
# lists what its choice lacks (nothing where a container engine answers). This script installs that with apt where
# it can (as root or with passwordless sudo), or says in one line what to install. Sourced by run.sh and test.sh.
set -euo pipefail

export DOTNET_NOLOGO=1
export DOTNET_CLI_TELEMETRY_OPTOUT=1

say() { echo "ava: $*" >&2; }

if ! command -v dotnet >/dev/null 2>&1; then
  say "the .NET 10 SDK is missing: install it from https://dot.net (see global.json for the version)."
  exit 1
fi

# One line per missing piece: "package NAME" or "user NAME". An AppHost that does not build says nothing here:
# the command that follows shows why.
lacking="$(dotnet run --project Ava.AppHost --no-launch-profile -- --Ava:ListMissingPrerequisites=true 2>/dev/null)" || lacking=""

packages=()
users=()
while read -r kind name; do
  case "$kind" in
    package) packages+=("$name") ;;
    user) users+=("$name") ;;
  esac
done <<<"$lacking"

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

# As root, Postgres runs as an unprivileged user (Debian's postgresql package creates it; a PostgreSQL of its own may not).
for user in "${users[@]}"; do
  if ! getent passwd "$user" >/dev/null; then
    say "creating the unprivileged '$user' user that Postgres runs as."
    useradd --system --no-create-home --shell /usr/sbin/nologin "$user"
  fi
done
