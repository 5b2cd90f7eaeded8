package webhooks

import "log/slog"

// Secret is a token or key. It prints, logs and marshals as "[redacted]";
// use string(s) where the value itself is needed.
type Secret string

const redacted = "[redacted]"

// LogValue keeps secrets out of slog output.
func (s Secret) LogValue() slog.Value { return slog.StringValue(redacted) }

// String keeps secrets out of fmt output.
func (s Secret) String() string { return redacted }

// GoString keeps secrets out of %#v output.
func (s Secret) GoString() string { return redacted }

// MarshalJSON keeps secrets out of JSON dumps.
func (s Secret) MarshalJSON() ([]byte, error) { return []byte(`"` + redacted + `"`), nil }
