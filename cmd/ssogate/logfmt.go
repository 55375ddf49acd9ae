package main

import "log/slog"

// logHandlerOptions are the options of every log handler the commands
// build: level, and durations written as text ("1.5s") rather than the
// JSON handler's integer nanoseconds, so that a person reading the log or
// a query over it sees the unit.
func logHandlerOptions(level slog.Leveler) *slog.HandlerOptions {
	return &slog.HandlerOptions{Level: level, ReplaceAttr: durationAsText}
}

// durationAsText is a slog ReplaceAttr that writes a time.Duration value
// as its String form. It applies at every group depth.
func durationAsText(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.String(a.Key, a.Value.Duration().String())
	}
	return a
}
