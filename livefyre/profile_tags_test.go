package livefyre

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// manyTags is a profile with n distinct tags, the most a 64 KiB webhook
// body holds being about 6,500.
func manyTags(n int) []byte {
	tags := make([]string, n)
	for i := range tags {
		tags[i] = fmt.Sprintf("tag_%d", i)
	}
	b, _ := json.Marshal(map[string]any{"id": "u1", "display_name": "Many Tags", "tags": tags})
	return b
}

// BenchmarkParseProfileTags measures ParseProfile on profiles with many
// tags: the time per tag must not grow with their number.
func BenchmarkParseProfileTags(b *testing.B) {
	for _, n := range []int{100, 1000, 6500} {
		body := manyTags(n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ParseProfile(body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func TestParseProfileTagsDedupedInOrder(t *testing.T) {
	t.Parallel()
	p, err := ParseProfile([]byte(`{"id":"u1","display_name":"A","tags":["b","a","b","c","a",""]}`))
	require.NoError(t, err)
	require.Equal(t, []string{"b", "a", "c"}, p.Tags)

	p = &Profile{ID: "u1", DisplayName: "A", Tags: []string{"x", "y", "x"}}
	var fe *FieldError
	require.ErrorAs(t, p.Validate(), &fe)
	require.Equal(t, "tags[2]", fe.Field)
	require.Equal(t, "is a duplicate", fe.Message)
}
