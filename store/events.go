package store

// Notification channels shared by the gateway's packages. Payloads are the
// JSON of ProfileEvent or SessionEvent.
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
