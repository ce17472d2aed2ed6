#!/usr/bin/env bash
# Prints a bearer token signed (HS256) with one of the AppHost's secrets:
#   scripts/token.sh [user-id] [lifetime-seconds]          a user's token for the messages API, signed like Supabase's
#                                                          with the jwt-secret parameter (audience "authenticated")
#   scripts/token.sh --service-role [lifetime-seconds]     an admin token for the webhook's /admin endpoints, signed with
#                                                          the admin-jwt-secret parameter (role "service_role", issuer
#                                                          "ava-admin", audience "ava-webhook-admin"; default 5 minutes,
#                                                          at most 15: the webhook refuses longer-lived ones)
#   curl -H "Authorization: Bearer $(scripts/token.sh)" http://localhost:5190/messages
#   curl -H "Authorization: Bearer $(scripts/token.sh --service-role)" http://localhost:5180/admin/failed
set -euo pipefail
cd "$(dirname "$0")/.."

service_role=false
if [ "${1:-}" = "--service-role" ]; then
  service_role=true
  shift
  lifetime="${1:-300}"
  if [ "$lifetime" -gt 900 ]; then
    echo "an admin token lives at most 900 seconds (15 minutes); mint a new one when it runs out" >&2
    exit 2
  fi
  parameter=admin-jwt-secret
else
  user_id="${1:-$(cat /proc/sys/kernel/random/uuid 2>/dev/null || uuidgen)}"
  lifetime="${2:-3600}"
  parameter=jwt-secret
fi

secret=$(dotnet user-secrets list --project Ava.AppHost 2>/dev/null | sed -n "s/^Parameters:$parameter = //p")
if [ -z "$secret" ]; then
  # The AppHost generates and keeps this secret on its first run; make it now so both agree.
  secret=$(head -c 36 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c 48)
  dotnet user-secrets set "Parameters:$parameter" "$secret" --project Ava.AppHost >/dev/null
fi

b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
now=$(date +%s)
header=$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)
if [ "$service_role" = true ]; then
  payload=$(printf '{"role":"service_role","iss":"ava-admin","aud":"ava-webhook-admin","iat":%d,"nbf":%d,"exp":%d}' "$now" "$now" $((now + lifetime)) | b64url)
else
  payload=$(printf '{"sub":"%s","aud":"authenticated","role":"authenticated","iat":%d,"exp":%d}' "$user_id" "$now" $((now + lifetime)) | b64url)
fi
signature=$(printf '%s.%s' "$header" "$payload" | openssl dgst -sha256 -hmac "$secret" -binary | b64url)

if [ "$service_role" = true ]; then
  echo "admin token, valid ${lifetime}s: it can replay failed work, keep it to yourself" >&2
else
  echo "token for user $user_id, valid ${lifetime}s" >&2
fi
echo "$header.$payload.$signature"
