package hub

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseParams(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name        string
		query       string
		contentType string
		body        string
		want        map[string]string
		bodyErr     bool
	}{
		{name: "query only (Java)", query: "actor_token=tok&pull_profile_url=https%3A%2F%2Fx.example%2Fp%3Fid%3D%7Bid%7D",
			want: map[string]string{"actor_token": "tok", "pull_profile_url": "https://x.example/p?id={id}"}},
		{name: "form body (Node, Ruby, PHP)", contentType: "application/x-www-form-urlencoded", body: "lftoken=a.b.c",
			want: map[string]string{"lftoken": "a.b.c"}},
		{name: "form body labelled JSON (Python)", contentType: "application/json", body: "lftoken=a.b.c&x=1",
			want: map[string]string{"lftoken": "a.b.c", "x": "1"}},
		{name: "form body without content type", body: "lftoken=a+b", want: map[string]string{"lftoken": "a b"}},
		{name: "JSON object body", contentType: "application/json", body: `{"lftoken":"t","n":1}`,
			want: map[string]string{"lftoken": "t", "n": ""}},
		{name: "query wins over body", query: "lftoken=q", body: "lftoken=b", want: map[string]string{"lftoken": "q"}},
		{name: "empty query value falls back to body", query: "lftoken=", body: "lftoken=b", want: map[string]string{"lftoken": "b"}},
		{name: "multipart", contentType: "multipart/form-data; boundary=XX",
			body: "--XX\r\nContent-Disposition: form-data; name=\"lftoken\"\r\n\r\nmp\r\n--XX--\r\n", want: map[string]string{"lftoken": "mp"}},
		{name: "bad escape keeps the rest", body: "a=%zz&lftoken=ok", want: map[string]string{"lftoken": "ok", "a": ""}, bodyErr: true},
		{name: "multipart without boundary", contentType: "multipart/form-data", body: "x", want: map[string]string{"x": ""}, bodyErr: true},
		{name: "whitespace body", body: " \n", want: map[string]string{"lftoken": ""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := parseParams(tc.query, tc.contentType, []byte(tc.body))
			for k, v := range tc.want {
				require.Equal(t, v, p.get(k), k)
			}
			require.Equal(t, tc.bodyErr, p.bodyErr != nil, "bodyErr %v", p.bodyErr)
		})
	}
}

func FuzzParseParams(f *testing.F) {
	f.Add("lftoken=a", "application/json", []byte("lftoken=b&c=%zz"))
	f.Add("", "multipart/form-data; boundary=b", []byte("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nv\r\n--b--\r\n"))
	f.Add("a=%", "", []byte(`{"lftoken":"x"}`))
	f.Fuzz(func(t *testing.T, query, contentType string, body []byte) {
		p := parseParams(query, contentType, body)
		// Query values win whenever they are non-empty.
		for k, vs := range p.query {
			if v := firstNonEmpty(vs); v != "" {
				require.Equal(t, v, p.get(k))
			}
		}
	})
}
