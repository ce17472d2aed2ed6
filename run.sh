#!/usr/bin/env bash
# Starts all of Ava (Postgres, Redis, migrations, both APIs) and the Aspire dashboard.
# Extra arguments go to the AppHost, e.g. ./run.sh --Ava:StartClean=true
set -euo pipefail
cd "$(dirname "$0")"
source scripts/prerequisites.sh
source scripts/dev-certificate.sh
exec dotnet run --project Ava.AppHost -- "$@"
