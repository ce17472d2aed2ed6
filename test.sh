#!/usr/bin/env bash
# Builds Ava and runs every test, unit and integration (the whole stack starts with throwaway data).
# Extra arguments go to dotnet test, e.g. ./test.sh --filter "FullyQualifiedName~Unit"
set -euo pipefail
cd "$(dirname "$0")"
source scripts/prerequisites.sh

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
