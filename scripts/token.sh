#!/usr/bin/env bash
# Prints a bearer token for the local messages API, signed like Supabase's (HS256, audience "authenticated"),
# with the AppHost's jwt-secret parameter. Usage: scripts/token.sh [user-id] [lifetime-seconds]
#   curl -H "Authorization: Bearer $(scripts/token.sh)" http://localhost:5190/messages
set -euo pipefail
cd "$(dirname "$0")/.."

user_id="${1:-$(cat /proc/sys/kernel/random/uuid 2>/dev/null || uuidgen)}"
lifetime="${2:-3600}"

secret=$(dotnet user-secrets list --project Ava.AppHost 2>/dev/null | sed -n 's/^Parameters:jwt-secret = //p')
if [ -z "$secret" ]; then
  # The AppHost generates and keeps this secret on its first run; make it now so both agree.
  secret=$(head -c 36 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 48)
  dotnet user-secrets set "Parameters:jwt-secret" "$secret" --project Ava.AppHost >/dev/null
fi

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
now=$(date +%s)
header=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
payload=$(printf '{"sub":"%s","aud":"authenticated","role":"authenticated","iat":%d,"exp":%d}' "$user_id" "$now" $((now + lifetime)) | b64url)
signature=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -hmac "$secret" -binary | b64url)

echo "token for user $user_id, valid ${lifetime}s" >&2
echo "$header.$payload.$signature"
