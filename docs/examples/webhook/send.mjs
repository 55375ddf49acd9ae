// Tell ssogate that a user's profile changed (Node 18+, the official
// Standard Webhooks library: npm install standardwebhooks).
//
//   SSOGATE_URL=https://sso.example.com SSOGATE_WEBHOOK_SECRET=whsec_… \
//     node send.mjs USER_ID 'New Name'
import { randomUUID } from "node:crypto";
import { Webhook } from "standardwebhooks";

const gateway = process.env.SSOGATE_URL;
const wh = new Webhook(process.env.SSOGATE_WEBHOOK_SECRET); // "whsec_…"

// profileChanged sends a JSON Merge Patch of the user's profile: only the
// fields named change; null removes one. Send {profile: {...}} instead to
// replace the whole profile. It retries what can be retried with the same
// webhook-id, so a retry that crosses a slow success is answered from the
// gateway's receipt and never applied twice.
export async function profileChanged(userId, patch) {
  const id = "msg_" + randomUUID();
  const body = JSON.stringify({ user_id: userId, patch, updated_at: new Date().toISOString() });
  for (let attempt = 1; ; attempt++) {
    const now = new Date();
    const res = await fetch(gateway + "/hooks/profile-changed", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "webhook-id": id,
        "webhook-timestamp": String(Math.floor(now.getTime() / 1000)),
        "webhook-signature": wh.sign(id, now, body),
      },
      body,
    });
    const answer = await res.json();
    if (res.status === 202) return answer; // {user_id, version, status}
    // Every refusal is {"error": {"code": "…", "message": "…"}}.
    const retry = res.status === 429 || res.status >= 500;
    if (!retry || attempt === 5) {
      throw new Error(`webhook refused: ${res.status} ${answer.error.code}: ${answer.error.message}`);
    }
    const wait = Number(res.headers.get("retry-after")) || 2 ** attempt;
    await new Promise((r) => setTimeout(r, wait * 1000));
  }
}

const [userId, displayName] = process.argv.slice(2);
const answer = await profileChanged(userId, { display_name: displayName });
console.log(JSON.stringify(answer));
