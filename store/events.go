package store

import (
	"bytes"
	"encoding/json"
)

// Notification channels shared by the gateway's packages. Payloads are the
// JSON of a SessionEvent, or of one or more ProfileEvents, one per line
// (EncodeProfileEvents): a batch of changes costs one notification.
const (
	// ChannelProfileChanged: a new profile version was committed (webhook,
	// login claims). Sent with Tx.Notify in the committing transaction.
	ChannelProfileChanged = "profile_changed"
	// ChannelProfileReady: the hub pulled the version (the pull endpoint
	// served it), so tabs may re-login now.
	ChannelProfileReady = "profile_ready"
	// ChannelSessionEnded: sessions ended (logout, back-channel logout,
	// provider refusal); their tabs must log out.
	ChannelSessionEnded = "session_ended"
)

// ProfileEvent is the payload of ChannelProfileChanged and
// ChannelProfileReady.
type ProfileEvent struct {
	UserID  string `json:"user_id"`
	Version int64  `json:"version"`
}

// SessionEvent is the payload of ChannelSessionEnded. SessionIDs are the
// stored ids (credential hashes), never credentials.
type SessionEvent struct {
	UserID     string   `json:"user_id"`
	SessionIDs []string `json:"session_ids"`
	Reason     string   `json:"reason"`
}

// maxNotifyPayload is the Notifier's payload limit.
const maxNotifyPayload = 7900

// EncodeProfileEvents encodes events as payloads of ChannelProfileChanged
// or ChannelProfileReady: one JSON object per line, as many per payload as
// fit the notification limit. None for no events.
func EncodeProfileEvents(events []ProfileEvent) [][]byte {
	var out [][]byte
	var cur []byte
	for _, ev := range events {
		b, err := json.Marshal(ev)
		if err != nil {
			continue
		}
		if len(cur) > 0 && len(cur)+1+len(b) > maxNotifyPayload {
			out = append(out, cur)
			cur = nil
		}
		if len(cur) > 0 {
			cur = append(cur, '\n')
		}
		cur = append(cur, b...)
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// DecodeProfileEvents reads a payload of EncodeProfileEvents (or a single
// ProfileEvent's JSON). Lines that are not a ProfileEvent with a user id
// are skipped.
func DecodeProfileEvents(payload []byte) []ProfileEvent {
	var out []ProfileEvent
	for line := range bytes.SplitSeq(payload, []byte{'\n'}) {
		var ev ProfileEvent
		if json.Unmarshal(line, &ev) == nil && ev.UserID != "" {
			out = append(out, ev)
		}
	}
	return out
}
