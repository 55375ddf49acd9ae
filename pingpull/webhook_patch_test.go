package pingpull

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/internal/asynctest"
	"github.com/ssogate/ssogate/livefyre"
	"github.com/ssogate/ssogate/store"
)

// TestMergePatchRFC7386 runs the test vectors of RFC 7386 appendix A.
func TestMergePatchRFC7386(t *testing.T) {
	t.Parallel()
	vectors := []struct{ doc, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`["a","b"]`, `["c","d"]`, `["c","d"]`},
		{`{"a":"b"}`, `["c"]`, `["c"]`},
		{`{"a":"foo"}`, `null`, `null`},
		{`{"a":"foo"}`, `"bar"`, `"bar"`},
		{`{"e":null}`, `{"a":1}`, `{"e":null,"a":1}`},
		{`[1,2]`, `{"a":"b","c":null}`, `{"a":"b"}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
	}
	for i, v := range vectors {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			got, err := mergePatch([]byte(v.doc), []byte(v.patch))
			require.NoError(t, err)
			require.JSONEq(t, v.want, string(got), "%s patched with %s", v.doc, v.patch)
		})
	}
}

// TestWebhookPatch: a patch changes the fields it names and nothing else,
// null removes a field, and an invalid result or a body with both profile
// and patch is refused with nothing stored.
func TestWebhookPatch(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, opts setupOpts) {
		b := setup(t, opts)
		ctx := context.Background()
		stored := func() string {
			p, err := b.store.ProfileGet(ctx, "u1")
			require.NoError(t, err)
			return string(p.Data)
		}
		b.accept(t, webhookReq{body: `{"user_id":"u1","profile":{"display_name":"Ann","email":"ann@example.com","image_url":"https://img.example.com/ann.png","name":{"first":"Ann","last":"Lee"}}}`})

		a := b.accept(t, webhookReq{body: `{"user_id":"u1","patch":{"display_name":"Ann B"}}`})
		require.Equal(t, WebhookAnswer{UserID: "u1", Version: 2, Status: StatusQueued}, a)
		require.Equal(t, `{"id":"u1","display_name":"Ann B","name":{"first":"Ann","last":"Lee"},"email":"ann@example.com","image_url":"https://img.example.com/ann.png"}`, stored())

		// null removes a field, nested objects merge.
		b.accept(t, webhookReq{body: `{"user_id":"u1","patch":{"email":null,"name":{"last":null},"moderator":"true"}}`})
		require.Equal(t, `{"id":"u1","display_name":"Ann B","name":{"first":"Ann"},"image_url":"https://img.example.com/ann.png","moderator":true}`, stored())

		// A patch that changes nothing is "unchanged".
		a = b.accept(t, webhookReq{body: `{"user_id":"u1","patch":{"display_name":"Ann B"}}`})
		require.Equal(t, WebhookAnswer{UserID: "u1", Version: 3, Status: StatusUnchanged}, a)

		before := stored()
		for _, tt := range []struct{ name, body, field string }{
			{"removes the required name", `{"user_id":"u1","patch":{"display_name":null}}`, "patch.display_name: "},
			{"invalid value", `{"user_id":"u1","patch":{"image_url":"javascript:alert(1)"}}`, "patch.image_url: "},
			{"another user's id", `{"user_id":"u1","patch":{"id":"u2"}}`, "patch.id: "},
			{"with profile", `{"user_id":"u1","profile":{"display_name":"X"},"patch":{"display_name":"Y"}}`, "patch: "},
			{"not an object", `{"user_id":"u1","patch":["display_name"]}`, "patch: "},
			{"too many websites", `{"user_id":"u1","patch":{"websites":["https://a.example","https://b.example","https://c.example"]}}`, "patch.websites: "},
		} {
			status, _, body := b.webhook(t, webhookReq{body: tt.body})
			require.Equal(t, http.StatusBadRequest, status, tt.name)
			require.Equal(t, "invalid_field", errorCode(t, body), tt.name)
			msg := decodeJSON[struct {
				Error struct{ Message string } `json:"error"`
			}](t, body).Error.Message
			require.Contains(t, msg, tt.field, tt.name)
		}
		require.Equal(t, before, stored(), "nothing stored by a refused patch")
		kinds := b.timelineKinds(t, "u1")
		require.Equal(t, "webhook.refused", kinds[len(kinds)-1])

		// A patch older than the stored profile is stale and not applied.
		a = b.accept(t, webhookReq{body: `{"user_id":"u1","patch":{"display_name":"Old"},"updated_at":"2001-01-01T00:00:00Z"}`})
		require.Equal(t, StatusStale, a.Status)
		require.Equal(t, before, stored())

		// A patch for an unknown user creates the profile when it is whole.
		status, _, body := b.webhook(t, webhookReq{body: `{"user_id":"u2","patch":{"email":"bo@example.com"}}`})
		require.Equal(t, http.StatusBadRequest, status, string(body))
		_, err := b.store.ProfileGet(ctx, "u2")
		require.ErrorIs(t, err, store.ErrNotFound)
		a = b.accept(t, webhookReq{body: `{"user_id":"u2","patch":{"display_name":"Bo"}}`})
		require.Equal(t, WebhookAnswer{UserID: "u2", Version: 1, Status: StatusQueued}, a)
	})
}

// TestWebhookPatchConcurrent: patches of different fields sent at once
// all survive; none is computed against a profile another one replaced.
func TestWebhookPatchConcurrent(t *testing.T) {
	t.Parallel()
	eachBackend(t, func(t *testing.T, opts setupOpts) {
		b := setup(t, opts)
		ctx := context.Background()
		const rounds = 8
		for round := range rounds {
			user := "c" + strconv.Itoa(round)
			if round%2 == 0 {
				// Half the rounds race on an existing profile, half on its creation.
				b.accept(t, webhookReq{body: profileBody(user, "Start")})
			}
			patches := []string{
				`{"display_name":"Name ` + strconv.Itoa(round) + `"}`,
				`{"email":"e` + strconv.Itoa(round) + `@example.com"}`,
				`{"location":"Paris"}`,
				`{"bio":"Bio"}`,
			}
			g := asynctest.New(t)
			statuses := make([]int, len(patches))
			bodies := make([][]byte, len(patches))
			for i, patch := range patches {
				g.Go(func(t testing.TB) {
					// Every patch carries a display name so that it can create the profile too.
					body := `{"user_id":"` + user + `","patch":` + patch[:len(patch)-1] + `,"display_name":"Name ` + strconv.Itoa(round) + `"}}`
					if i == 0 {
						body = `{"user_id":"` + user + `","patch":` + patch + `}`
					}
					statuses[i], _, bodies[i] = b.webhook(t, webhookReq{body: body})
				})
			}
			g.Wait()
			for i := range patches {
				require.Equal(t, http.StatusAccepted, statuses[i], string(bodies[i]))
			}
			p, err := b.store.ProfileGet(ctx, user)
			require.NoError(t, err)
			var got map[string]any
			require.NoError(t, json.Unmarshal(p.Data, &got))
			require.Equal(t, map[string]any{"id": user, "display_name": "Name " + strconv.Itoa(round),
				"email": "e" + strconv.Itoa(round) + "@example.com", "location": "Paris", "bio": "Bio"}, got)
		}
	})
}

// FuzzWebhookPatch: whatever the body, a patch either yields a valid
// profile of the webhook's user or a *livefyre.FieldError naming a field.
func FuzzWebhookPatch(f *testing.F) {
	f.Add([]byte(`{"user_id":"u1","patch":{"display_name":"X"}}`))
	f.Add([]byte(`{"user_id":"u1","patch":{"email":null,"name":{"first":null}}}`))
	f.Add([]byte(`{"user_id":"u1","patch":{"tags":["a","a"],"id":7}}`))
	f.Add([]byte(`{"user_id":"u1","patch":{"display_name":{"x":1}}}`))
	stored := json.RawMessage(`{"id":"u1","display_name":"Ann","name":{"first":"Ann"},"email":"ann@example.com","tags":["a"]}`)
	f.Fuzz(func(t *testing.T, data []byte) {
		body, err := parseWebhookBody(data)
		if err != nil || body.Patch == nil {
			return
		}
		out, err := patchProfile(body.UserID, stored, body.Patch)
		if err != nil {
			var fe *livefyre.FieldError
			if !errors.As(err, &fe) || fe.Field == "" {
				t.Fatalf("error without a field: %v", err)
			}
			return
		}
		p, err := livefyre.ParseProfile(out)
		if err != nil {
			t.Fatalf("patched profile %s does not parse: %v", out, err)
		}
		if p.ID != body.UserID {
			t.Fatalf("patched profile of %q has id %q", body.UserID, p.ID)
		}
		again, err := p.Canonical()
		if err != nil || string(again) != string(out) {
			t.Fatalf("not canonical: %s vs %s", out, again)
		}
	})
}
