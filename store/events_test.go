package store

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestProfileEventsRoundTrip(t *testing.T) {
	require.Nil(t, EncodeProfileEvents(nil))
	var events []ProfileEvent
	for i := range 400 {
		events = append(events, ProfileEvent{UserID: fmt.Sprintf("user-%03d", i), Version: int64(i + 1)})
	}
	payloads := EncodeProfileEvents(events)
	require.Greater(t, len(payloads), 1, "400 events do not fit one notification")
	var got []ProfileEvent
	for _, p := range payloads {
		require.LessOrEqual(t, len(p), maxNotifyPayload)
		got = append(got, DecodeProfileEvents(p)...)
	}
	require.Equal(t, events, got)
}

func TestDecodeProfileEventsIsLenient(t *testing.T) {
	// A single event, as senders wrote before batching, and junk lines.
	require.Equal(t, []ProfileEvent{{UserID: "a", Version: 2}}, DecodeProfileEvents([]byte(`{"user_id":"a","version":2}`)))
	require.Equal(t, []ProfileEvent{{UserID: "b", Version: 1}},
		DecodeProfileEvents([]byte("not json\n{\"version\":3}\n{\"user_id\":\"b\",\"version\":1}\n")))
	require.Empty(t, DecodeProfileEvents(nil))
}
