#!/bin/sh
# The token and alert calls from Microsoft's "Use curl" and "create an app without a user" pages,
# as written except the secret values, which come from the environment. Nothing here knows about the
# emulator: the hosts file and CURL_CA_BUNDLE decide where the names go and which CA is trusted.
set -eu
TENANT_ID="$AZURE_TENANT_ID"
CLIENT_ID="$AZURE_CLIENT_ID"
CLIENT_SECRET="$AZURE_CLIENT_SECRET"

case "${1:-v2}" in
v1)
  curl -s -f -X POST -H "Content-Type:application/x-www-form-urlencoded" \
    -d "resource=https://api.securitycenter.microsoft.com" -d "client_id=$CLIENT_ID" \
    -d "client_secret=$CLIENT_SECRET" -d "grant_type=client_credentials" \
    "https://login.microsoftonline.com/$TENANT_ID/oauth2/token" ;;
v2)
  curl -s -f -X POST -H "Content-Type:application/x-www-form-urlencoded" -d "grant_type=client_credentials" \
    -d "client_id=$CLIENT_ID" -d "scope=https://securitycenter.onmicrosoft.com/windowsatpservice/.default" \
    -d "client_secret=$CLIENT_SECRET" "https://login.microsoftonline.com/$TENANT_ID/oauth2/v2.0/token" ;;
alerts)
  curl -s -f -H "Authorization: Bearer $ACCESS_TOKEN" "https://api.securitycenter.microsoft.com/api/alerts" ;;
esac
