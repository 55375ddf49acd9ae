// Package livefyre is Livefyre's wire format, shared by both ends: the
// gateway (package pingpull), which pings and answers pulls, and the hub
// (package hub), which receives pings and pulls profiles.
//
// It holds the profile schema of the pull response (spec §4) with its
// lenient readers and canonical writers (Profile and ParseProfile for the
// sender, which refuses what breaks the schema; ReceivedProfile and
// DecodeReceived for the receiver, which keeps what it can read), the
// retry schedule and delay of pings, logouts and pulls
// (StandardWebhooksSchedule, JitteredDelay), Retry-After parsing with one
// cap (MaxRetryAfter), and the shapes of the requests: the ping and logout
// paths (UserActionPath, both API version spellings in APIVersions), the
// registration form (RegisterForm) and the pull URL (PullURL).
//
// It does no I/O and imports nothing of the project but tokens.
package livefyre
