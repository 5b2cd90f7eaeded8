package reports

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/costgate/costgate"
)

// SentLogFile is the sent log's default name in the store directory.
const SentLogFile = "report-sent.json"

// SentLog remembers which month's report went to whom, so that running a
// delivery again (a retry, a restarted server) does not mail anyone
// twice. It is a small JSON file, replaced atomically on every record.
type SentLog struct {
	path string
	mu   sync.Mutex
}

// SentEntry is one delivered report.
type SentEntry struct {
	Month costgate.Month `json:"month"`
	// Scope is "company" or "team:NAME": a person on the company list and
	// on a team's list gets both reports.
	Scope     string    `json:"scope"`
	Recipient string    `json:"recipient"`
	SentAt    time.Time `json:"sent_at"`
	Subject   string    `json:"subject,omitempty"`
	Attempts  int       `json:"attempts,omitempty"`
}

type sentFile struct {
	Version int         `json:"version"`
	Sent    []SentEntry `json:"sent"`
}

// OpenSentLog returns the log kept at path; the file is created by the
// first Record.
func OpenSentLog(path string) *SentLog { return &SentLog{path: path} }

// Path is the log's file.
func (l *SentLog) Path() string { return l.path }

// normalAddress is the key of a recipient: the bare address, lower case.
func normalAddress(s string) string {
	if a, err := mail.ParseAddress(s); err == nil {
		s = a.Address
	}
	return strings.ToLower(strings.TrimSpace(s))
}

func (l *SentLog) read() (*sentFile, error) {
	b, err := os.ReadFile(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return &sentFile{Version: 1}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read sent log: %w", err)
	}
	var f sentFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("read sent log %s: %w (move the file away to start a new log)", l.path, err)
	}
	if f.Version != 1 {
		return nil, fmt.Errorf("read sent log %s: version %d, want 1", l.path, f.Version)
	}
	return &f, nil
}

// Lookup returns the entry of (month, scope, recipient) when that report
// was sent.
func (l *SentLog) Lookup(m costgate.Month, scope, recipient string) (SentEntry, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := l.read()
	if err != nil {
		return SentEntry{}, false, err
	}
	key := normalAddress(recipient)
	for _, e := range f.Sent {
		if e.Month == m && e.Scope == scope && e.Recipient == key {
			return e, true, nil
		}
	}
	return SentEntry{}, false, nil
}

// Record adds e (replacing an older entry for the same key) and writes
// the file atomically.
func (l *SentLog) Record(e SentEntry) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	f, err := l.read()
	if err != nil {
		return err
	}
	e.Recipient = normalAddress(e.Recipient)
	out := f.Sent[:0]
	for _, x := range f.Sent {
		if x.Month != e.Month || x.Scope != e.Scope || x.Recipient != e.Recipient {
			out = append(out, x)
		}
	}
	f.Sent = append(out, e)
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(l.path), 0o755); err != nil {
		return fmt.Errorf("write sent log: %w", err)
	}
	if err := writeAtomic(l.path, append(b, '\n')); err != nil {
		return fmt.Errorf("write sent log: %w", err)
	}
	return nil
}
