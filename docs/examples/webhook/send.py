"""Tell ssogate that a user's profile changed (Python 3.9+, standard library
only; the official Standard Webhooks library, pip install standardwebhooks,
signs the same way).

    SSOGATE_URL=https://sso.example.com SSOGATE_WEBHOOK_SECRET=whsec_... \
        python3 send.py USER_ID 'New Name'
"""
import base64
import hashlib
import hmac
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid

GATEWAY = os.environ["SSOGATE_URL"]
SECRET = os.environ["SSOGATE_WEBHOOK_SECRET"]  # "whsec_..."


def sign(msg_id, timestamp, body):
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def profile_changed(user_id, patch):
    """Sends a JSON Merge Patch of the user's profile (null removes a field;
    send {"profile": {...}} to replace it whole). Retries keep the
    webhook-id, so the gateway applies a change once however often it
    arrives."""
    msg_id = "msg_" + uuid.uuid4().hex
    body = json.dumps({"user_id": user_id, "patch": patch}).encode()
    for attempt in range(1, 6):
        ts = str(int(time.time()))
        req = urllib.request.Request(
            GATEWAY + "/hooks/profile-changed",
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "webhook-id": msg_id,
                "webhook-timestamp": ts,
                "webhook-signature": sign(msg_id, ts, body),
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=10) as res:
                return json.load(res)  # 202: {user_id, version, status}
        except urllib.error.HTTPError as err:
            answer = json.load(err)
            if (err.code != 429 and err.code < 500) or attempt == 5:
                raise RuntimeError(
                    f"webhook refused: {err.code} {answer['error']['code']}: {answer['error']['message']}"
                ) from None
            time.sleep(int(err.headers.get("Retry-After") or 2**attempt))


if __name__ == "__main__":
    print(json.dumps(profile_changed(sys.argv[1], {"display_name": sys.argv[2]})))
