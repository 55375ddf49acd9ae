package livefyre

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/tokens"
)

// officialExample is the spec §4 example (strings for booleans), with a
// bio filled in.
const officialExample = `{"id":"1234567890","display_name":"Bob Dole","name":{"formatted":"Bob Joseph Dole","first":"Bob","middle":"Joseph","last":"Dole"},"email":"bob@dole.com","image_url":"https://dole.com/images/bob.jpg","profile_url":"https://site.com/bobdole","settings_url":"https://site.com/settings","tags":["bob","dole"],"autofollow_conversations":"true","email_notifications":{"comments":"never","replies":"immediately","likes":"often","moderator_comments":"immediately","moderator_flags":"immediately"},"location":"Washington D.C., USA","bio":"Senator.","websites":["https://dole.com/blog/","https://bobdolerocks.com"],"display_rules":{"bio":"false","location":"false","gender":"false","name":"false","image":"false","remote_profile_url":"false"},"moderator":"true","gravatar_disabled":"false"}`

func TestCanonicalProfileOfficialExample(t *testing.T) {
	t.Parallel()
	got, err := CanonicalProfile([]byte(officialExample))
	require.NoError(t, err)
	want := `{"id":"1234567890","display_name":"Bob Dole","name":{"formatted":"Bob Joseph Dole","first":"Bob","middle":"Joseph","last":"Dole"},"email":"bob@dole.com","image_url":"https://dole.com/images/bob.jpg","profile_url":"https://site.com/bobdole","settings_url":"https://site.com/settings","tags":["bob","dole"],"autofollow_conversations":true,"email_notifications":{"comments":"never","replies":"immediately","likes":"often","moderator_comments":"immediately","moderator_flags":"immediately"},"location":"Washington D.C., USA","bio":"Senator.","websites":["https://dole.com/blog/","https://bobdolerocks.com"],"display_rules":{"bio":false,"location":false,"gender":false,"name":false,"image":false,"remote_profile_url":false},"moderator":true,"gravatar_disabled":false}`
	require.Equal(t, want, string(got))

	// The canonical form reads back to itself.
	again, err := CanonicalProfile(got)
	require.NoError(t, err)
	require.Equal(t, string(got), string(again))
}

func TestCanonicalProfileLenientRead(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"minimal", `{"id":"u1","display_name":"Ann"}`, `{"id":"u1","display_name":"Ann"}`},
		{"key order does not matter", `{"display_name":"Ann","id":"u1"}`, `{"id":"u1","display_name":"Ann"}`},
		{"unknown keys ignored", `{"id":"u1","display_name":"Ann","nickname":"a","created":1}`, `{"id":"u1","display_name":"Ann"}`},
		{"empty strings are unset", `{"id":"u1","display_name":"Ann","email":"","bio":"","autofollow_conversations":"","moderator":null}`, `{"id":"u1","display_name":"Ann"}`},
		{"empty objects are dropped", `{"id":"u1","display_name":"Ann","name":{},"email_notifications":{"likes":""},"display_rules":""}`, `{"id":"u1","display_name":"Ann"}`},
		{"empty arrays are dropped", `{"id":"u1","display_name":"Ann","tags":[],"websites":[""]}`, `{"id":"u1","display_name":"Ann"}`},
		{"string booleans", `{"id":"u1","display_name":"Ann","moderator":"TRUE","gravatar_disabled":"false"}`, `{"id":"u1","display_name":"Ann","moderator":true,"gravatar_disabled":false}`},
		{"real booleans", `{"id":"u1","display_name":"Ann","moderator":false}`, `{"id":"u1","display_name":"Ann","moderator":false}`},
		{"numeric id", `{"id":1234567890,"display_name":"Ann"}`, `{"id":"1234567890","display_name":"Ann"}`},
		{"duplicate tags folded", `{"id":"u1","display_name":"Ann","tags":["a","b","a"]}`, `{"id":"u1","display_name":"Ann","tags":["a","b"]}`},
		{"notification case folded", `{"id":"u1","display_name":"Ann","email_notifications":{"likes":" Often "}}`, `{"id":"u1","display_name":"Ann","email_notifications":{"likes":"often"}}`},
		{"50 characters", `{"id":"u1","display_name":"` + strings.Repeat("é", 50) + `"}`, `{"id":"u1","display_name":"` + strings.Repeat("é", 50) + `"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := CanonicalProfile([]byte(tt.in))
			require.NoError(t, err)
			require.Equal(t, tt.want, string(got))
		})
	}
}

func TestParseProfileRefusals(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		in    string
		field string
	}{
		{"not an object", `[1]`, "profile"},
		{"broken JSON", `{"id":`, "profile"},
		{"missing id", `{"display_name":"Ann"}`, "id"},
		{"bad id", `{"id":"a@b","display_name":"Ann"}`, "id"},
		{"negative numeric id", `{"id":-1,"display_name":"Ann"}`, "id"},
		{"long id", `{"id":"` + strings.Repeat("a", 256) + `","display_name":"Ann"}`, "id"},
		{"missing display name", `{"id":"u1"}`, "display_name"},
		{"blank display name", `{"id":"u1","display_name":"  "}`, "display_name"},
		{"51 characters", `{"id":"u1","display_name":"` + strings.Repeat("a", 51) + `"}`, "display_name"},
		{"html", `{"id":"u1","display_name":"<b>Ann</b>"}`, "display_name"},
		{"html entity", `{"id":"u1","display_name":"Ann &amp; Bob"}`, "display_name"},
		{"numeric entity", `{"id":"u1","display_name":"Ann &#60;"}`, "display_name"},
		{"control character", `{"id":"u1","display_name":"Ann\u0007"}`, "display_name"},
		{"display name not a string", `{"id":"u1","display_name":5}`, "display_name"},
		{"name not an object", `{"id":"u1","display_name":"Ann","name":"Ann B"}`, "name"},
		{"name field not a string", `{"id":"u1","display_name":"Ann","name":{"first":1}}`, "name.first"},
		{"bad email", `{"id":"u1","display_name":"Ann","email":"ann"}`, "email"},
		{"relative image url", `{"id":"u1","display_name":"Ann","image_url":"/a.png"}`, "image_url"},
		{"javascript url", `{"id":"u1","display_name":"Ann","profile_url":"javascript:alert(1)"}`, "profile_url"},
		{"ftp url", `{"id":"u1","display_name":"Ann","settings_url":"ftp://x.org/"}`, "settings_url"},
		{"tag with space", `{"id":"u1","display_name":"Ann","tags":["a b"]}`, "tags[0]"},
		{"tag too long", `{"id":"u1","display_name":"Ann","tags":["ok","` + strings.Repeat("t", 64) + `"]}`, "tags[1]"},
		{"tags not an array", `{"id":"u1","display_name":"Ann","tags":"a"}`, "tags"},
		{"tag not a string", `{"id":"u1","display_name":"Ann","tags":[1]}`, "tags[0]"},
		{"bad boolean", `{"id":"u1","display_name":"Ann","moderator":"yes"}`, "moderator"},
		{"numeric boolean", `{"id":"u1","display_name":"Ann","autofollow_conversations":1}`, "autofollow_conversations"},
		{"bad display rule", `{"id":"u1","display_name":"Ann","display_rules":{"bio":"maybe"}}`, "display_rules.bio"},
		{"bad notification", `{"id":"u1","display_name":"Ann","email_notifications":{"likes":"daily"}}`, "email_notifications.likes"},
		{"three websites", `{"id":"u1","display_name":"Ann","websites":["https://a.org","https://b.org","https://c.org"]}`, "websites"},
		{"bad website", `{"id":"u1","display_name":"Ann","websites":["https://a.org","b.org"]}`, "websites[1]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseProfile([]byte(tt.in))
			require.Error(t, err)
			require.ErrorIs(t, err, ErrInvalidProfile)
			var fe *FieldError
			require.True(t, errors.As(err, &fe))
			require.Equal(t, tt.field, fe.Field, fe.Message)
		})
	}
}

func TestProfileCanonicalBuiltInGo(t *testing.T) {
	t.Parallel()
	yes := true
	p := &Profile{ID: "u1", DisplayName: "Ann", Name: &Name{}, Moderator: &yes, Tags: []string{}}
	got, err := p.Canonical()
	require.NoError(t, err)
	require.Equal(t, `{"id":"u1","display_name":"Ann","moderator":true}`, string(got))
	require.NotNil(t, p.Name, "Canonical must not change its receiver")
}

func FuzzProfile(f *testing.F) {
	f.Add([]byte(officialExample))
	f.Add([]byte(`{"id":"u1","display_name":"Ann"}`))
	f.Add([]byte(`{"id":1,"display_name":"Ann","tags":["a","a"],"moderator":"True"}`))
	f.Add([]byte(`{"id":"u1","display_name":"Ann","name":"","websites":null}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"id":"..","display_name":"Ann\u202e\u200d"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseProfile(data)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field == "" {
				t.Fatalf("error without a field: %v", err)
			}
			return
		}
		// What the webhook accepts is safe to show and to put in a URL.
		if err := tokens.ValidateDisplayName(p.DisplayName); err != nil {
			t.Fatalf("accepted display name %q: %v", p.DisplayName, err)
		}
		if !tokens.ValidUserID(p.ID) {
			t.Fatalf("accepted id %q", p.ID)
		}
		canonical, err := p.Canonical()
		if err != nil {
			t.Fatal(err)
		}
		if !json.Valid(canonical) {
			t.Fatalf("canonical JSON is invalid: %s", canonical)
		}
		// Exact writing reads back to the same bytes.
		again, err := CanonicalProfile(canonical)
		if err != nil {
			t.Fatalf("canonical %s does not parse: %v", canonical, err)
		}
		if string(again) != string(canonical) {
			t.Fatalf("not a fixed point:\n%s\n%s", canonical, again)
		}
	})
}
