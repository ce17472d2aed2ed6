#!/usr/bin/env bash
# Builds Ava and runs every test, unit and integration (the whole stack starts with throwaway data).
# Extra arguments go to dotnet test, e.g. ./test.sh --filter "FullyQualifiedName~Unit"
set -euo pipefail
cd "$(dirname "$0")"
source scripts/prerequisites.sh

# The chat page's browser test drives the distribution's Chromium: Playwright's own browser download needs a network
# the tests cannot count on. Where it cannot be installed the run goes on, and that test fails saying why.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then sudo=(); elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo=(sudo); else sudo=(none); fi
  if [ "${sudo[*]:-}" != none ] && command -v apt-get >/dev/null 2>&1; then
    echo "ava: installing chromium with apt for the browser test." >&2
    { "${sudo[@]}" apt-get update -qq \
        && DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends chromium >/dev/null; } \
      || echo "ava: installing chromium failed: the browser test will fail." >&2
  else
    echo "ava: chromium is missing and cannot be installed here (no apt, or not root): the browser test will fail; install chromium." >&2
  fi
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT

status=0
dotnet test Ava.sln "$@" 2>&1 | tee "$log" || status=$?

# One closing line for the whole run, summed over the test assemblies' own summaries.
awk '
  /(Passed|Failed)! +- +Failed:/ {
    for (i = 1; i <= NF; i++) {
      if ($i == "Failed:")  failed  += $(i + 1)
      if ($i == "Passed:")  passed  += $(i + 1)
      if ($i == "Skipped:") skipped += $(i + 1)
    }
    found = 1
  }
  END {
    if (found) printf "%d passed, %d failed, %d skipped\n", passed, failed, skipped
    else print "no test ran: see the build output above"
  }' "$log"

exit "$status"
