package livefyre

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ssogate/ssogate/tokens"
)

// officialPullExample is the pull response of Livefyre's documentation (spec
// §4), booleans as strings.
const officialPullExample = `{"id":"1234567890","display_name":"Bob Dole","name":{"formatted":"Bob Joseph Dole","first":"Bob","middle":"Joseph","last":"Dole"},"email":"bob@dole.com","image_url":"https://dole.com/images/bob.jpg","profile_url":"https://site.com/bobdole","settings_url":"https://site.com/settings","tags":["bob","dole"],"autofollow_conversations":"true","email_notifications":{"comments":"never","replies":"immediately","likes":"often","moderator_comments":"immediately","moderator_flags":"immediately"},"location":"Washington D.C., USA","bio":"…","websites":["https://dole.com/blog/","https://bobdolerocks.com"],"display_rules":{"bio":"false","location":"false","gender":"false","name":"false","image":"false","remote_profile_url":"false"},"moderator":"true","gravatar_disabled":"false"}`

func TestDecodeReceived(t *testing.T) {
	t.Parallel()
	yes, no := true, false
	cases := []struct {
		name    string
		body    string
		want    *ReceivedProfile
		wantErr error
	}{
		{name: "official example", body: officialPullExample, want: &ReceivedProfile{
			ID: "1234567890", DisplayName: "Bob Dole",
			Name:  &Name{Formatted: "Bob Joseph Dole", First: "Bob", Middle: "Joseph", Last: "Dole"},
			Email: "bob@dole.com", ImageURL: "https://dole.com/images/bob.jpg", ProfileURL: "https://site.com/bobdole",
			SettingsURL: "https://site.com/settings", Tags: []string{"bob", "dole"}, AutofollowConversations: &yes,
			EmailNotifications: map[string]string{"comments": "never", "replies": "immediately", "likes": "often", "moderator_comments": "immediately", "moderator_flags": "immediately"},
			Location:           "Washington D.C., USA", Bio: "…", Websites: []string{"https://dole.com/blog/", "https://bobdolerocks.com"},
			DisplayRules: map[string]bool{"bio": false, "location": false, "gender": false, "name": false, "image": false, "remote_profile_url": false},
			Moderator:    &yes, GravatarDisabled: &no,
		}},
		{name: "real booleans and unknown keys", body: `{"id":"u","display_name":"U","moderator":true,"autofollow_conversations":false,"extra":{"x":1}}`,
			want: &ReceivedProfile{ID: "u", DisplayName: "U", Moderator: &yes, AutofollowConversations: &no}},
		{name: "empty strings are unset (janrain example)", body: `{"id":"u","display_name":"U","autofollow_conversations":"","email_notifications":{"comments":"","likes":"often"},"name":{}}`,
			want: &ReceivedProfile{ID: "u", DisplayName: "U", EmailNotifications: map[string]string{"likes": "often"}}},
		{name: "numeric id", body: `{"id":42,"display_name":"N"}`, want: &ReceivedProfile{ID: "42", DisplayName: "N"}},
		{name: "wrong types dropped", body: `{"id":"u","display_name":7,"tags":"solo","websites":[1,"https://a"],"moderator":"maybe","display_rules":[]}`,
			want: &ReceivedProfile{ID: "u", Tags: []string{"solo"}, Websites: []string{"https://a"}}},
		{name: "null fields", body: `{"id":"u","display_name":null,"moderator":null,"name":null}`, want: &ReceivedProfile{ID: "u"}},
		{name: "boolean numbers", body: `{"id":"u","moderator":1,"gravatar_disabled":"0"}`, want: &ReceivedProfile{ID: "u", Moderator: &yes, GravatarDisabled: &no}},
		{name: "not JSON", body: `<html>`, wantErr: ErrNotObject},
		{name: "array", body: `[{"id":"u"}]`, wantErr: ErrNotObject},
		{name: "trailing garbage", body: `{"id":"u"} {"id":"v"}`, wantErr: ErrNotObject},
		{name: "null", body: `null`, wantErr: ErrNotObject},
		{name: "no id", body: `{"display_name":"x"}`, wantErr: ErrNoID},
		{name: "empty id", body: `{"id":""}`, wantErr: ErrNoID},
		{name: "fractional id", body: `{"id":1.5}`, wantErr: ErrNoID},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := DecodeReceived([]byte(tc.body))
			if tc.wantErr != nil {
				require.ErrorIs(t, err, tc.wantErr)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestReceivedCanonicalIsStable(t *testing.T) {
	t.Parallel()
	a, err := DecodeReceived([]byte(officialPullExample))
	require.NoError(t, err)
	// Same profile, keys in another order and booleans as booleans.
	var m map[string]any
	require.NoError(t, json.Unmarshal([]byte(officialPullExample), &m))
	m["moderator"], m["autofollow_conversations"], m["gravatar_disabled"] = true, true, false
	reordered, err := json.Marshal(m)
	require.NoError(t, err)
	b, err := DecodeReceived(reordered)
	require.NoError(t, err)
	require.Equal(t, string(a.Canonical()), string(b.Canonical()))
}

func FuzzDecodeReceived(f *testing.F) {
	f.Add([]byte(officialPullExample))
	f.Add([]byte(`{"id":1,"moderator":"yes","tags":"a"}`))
	f.Add([]byte(`{"id":"u","name":{"first":1},"display_rules":{"x":"1"}}`))
	f.Add([]byte(`[]`))
	f.Add([]byte(`{"id":"..","display_name":"\u202eBob\u200b"}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		doc, err := DecodeReceived(body)
		if err != nil {
			require.Nil(t, doc)
			return
		}
		require.True(t, tokens.ValidUserID(doc.ID), doc.ID)
		require.NoError(t, tokens.ValidateDisplayName(doc.DisplayName))
		// The canonical form decodes to itself.
		canon := doc.Canonical()
		again, err := DecodeReceived(canon)
		require.NoError(t, err)
		require.Equal(t, string(canon), string(again.Canonical()))
	})
}
