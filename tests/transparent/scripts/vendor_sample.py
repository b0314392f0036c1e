"""Written the way Microsoft's published Defender for Endpoint Python samples are.

("Create an app to access Microsoft Defender for Endpoint without a user" + "Get alerts"): urllib,
hard-coded hosts, a v1 token with ``resource=``, then ``GET /api/alerts``. Only the three secret
values come from the environment instead of being pasted in. Prints one JSON summary line.
"""

import json
import os
import urllib.parse
import urllib.request

tenantId = os.environ["AZURE_TENANT_ID"]  # Paste your own tenant ID here
appId = os.environ["AZURE_CLIENT_ID"]  # Paste your own app ID here
appSecret = os.environ["AZURE_CLIENT_SECRET"]  # Paste your own app secret here

url = "https://login.microsoftonline.com/%s/oauth2/token" % (tenantId)  # noqa: UP031 (as the sample writes it)

resourceAppIdUri = "https://api.securitycenter.microsoft.com"

body = {
    "resource": resourceAppIdUri,
    "client_id": appId,
    "client_secret": appSecret,
    "grant_type": "client_credentials",
}

data = urllib.parse.urlencode(body).encode("utf-8")

req = urllib.request.Request(url, data)
response = urllib.request.urlopen(req)
jsonResponse = json.loads(response.read())
aadToken = jsonResponse["access_token"]
expiresIn = jsonResponse["expires_in"]

url = "https://api.securitycenter.microsoft.com/api/alerts"
headers = {
    "Content-Type": "application/json",
    "Accept": "application/json",
    "Authorization": "Bearer " + aadToken,
}

req = urllib.request.Request(url, headers=headers)
response = urllib.request.urlopen(req)
jsonResponse = json.loads(response.read())
alerts = jsonResponse["value"]

print(json.dumps({"expires_in": expiresIn, "alerts": len(alerts), "context": jsonResponse["@odata.context"]}))
