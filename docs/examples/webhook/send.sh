#!/usr/bin/env bash
# Tell ssogate that a user's profile changed, with curl and openssl.
#   SSOGATE_URL=https://sso.example.com SSOGATE_WEBHOOK_SECRET=whsec_… ./send.sh USER_ID 'New Name'
set -euo pipefail
user_id=$1 display_name=$2
# jq would do too; the id and the name here are plain strings.
body=$(printf '{"user_id":"%s","patch":{"display_name":"%s"}}' "$user_id" "$display_name")
id="msg_$(openssl rand -hex 16)"
ts=$(date +%s)
key_hex=$(printf '%s' "${SSOGATE_WEBHOOK_SECRET#whsec_}" | base64 -d | od -An -vtx1 | tr -d ' \n')
sig=$(printf '%s.%s.%s' "$id" "$ts" "$body" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$key_hex" -binary | base64)
curl --fail-with-body --silent --show-error \
	-H 'Content-Type: application/json' \
	-H "webhook-id: $id" -H "webhook-timestamp: $ts" -H "webhook-signature: v1,$sig" \
	--data-binary "$body" "$SSOGATE_URL/hooks/profile-changed"
