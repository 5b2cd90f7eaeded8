package reports

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"net/textproto"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// TLS modes of SMTPConfig.TLS.
const (
	TLSNone     = "none"     // plain SMTP (a relay on localhost)
	TLSStartTLS = "starttls" // upgrade with STARTTLS; refuse a server without it
	TLSImplicit = "tls"      // TLS from the first byte (SMTPS, port 465)
)

// TLSModes lists the modes, for config help and validation.
func TLSModes() []string { return []string{TLSNone, TLSStartTLS, TLSImplicit} }

// Secret is a password. It prints, logs and marshals as "[redacted]".
type Secret string

// String keeps the secret out of fmt output.
func (Secret) String() string { return "[redacted]" }

// GoString keeps the secret out of %#v output.
func (Secret) GoString() string { return "[redacted]" }

// LogValue keeps the secret out of slog output.
func (Secret) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// MarshalText keeps the secret out of JSON and text dumps.
func (Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

func (s Secret) reveal() string { return string(s) }

// DefaultPort is the SMTP port of a TLS mode: 25, 587 or 465.
func DefaultPort(mode string) int {
	return map[string]int{TLSNone: 25, TLSStartTLS: 587, TLSImplicit: 465}[mode]
}

func orDefaultDuration(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// SMTPConfig says how to reach the mail server.
type SMTPConfig struct {
	Host string
	// Port defaults by TLS mode: 25 none, 587 starttls, 465 tls.
	Port     int
	Username string
	Password Secret
	From     string
	ReplyTo  string
	// TLS is none, starttls (default) or tls.
	TLS string
	// TLSConfig overrides the TLS settings (a private CA); ServerName
	// defaults to Host.
	TLSConfig *tls.Config
	// Timeout bounds each attempt (default 30s).
	Timeout time.Duration
	// Attempts is how often a message is tried (default 4); Backoff the
	// first wait between attempts (default 5s), doubled each time up to
	// MaxBackoff (default 2m).
	Attempts   int
	Backoff    time.Duration
	MaxBackoff time.Duration
}

// Validate checks c and names the bad field.
func (c SMTPConfig) Validate() error {
	if c.Host == "" {
		return errors.New("smtp.host: required")
	}
	mode := c.TLS
	if mode == "" {
		mode = TLSStartTLS
	}
	if DefaultPort(mode) == 0 {
		return fmt.Errorf("smtp.tls: %q: use none, starttls or tls", c.TLS)
	}
	if c.Port < 0 || c.Port > 65535 {
		return fmt.Errorf("smtp.port: %d: use 1-65535", c.Port)
	}
	if _, err := mail.ParseAddress(c.From); err != nil {
		return fmt.Errorf("smtp.from: %q: %v", c.From, err)
	}
	if c.ReplyTo != "" {
		if _, err := mail.ParseAddress(c.ReplyTo); err != nil {
			return fmt.Errorf("smtp.reply_to: %q: %v", c.ReplyTo, err)
		}
	}
	if c.Username == "" && c.Password != "" {
		return errors.New("smtp.username: required with a password")
	}
	return nil
}

// Attachment is a file attached to a message.
type Attachment struct {
	Name        string
	ContentType string
	Data        []byte
}

// Message is one report email: a text and an HTML alternative, the
// charts inline (multipart/related) and attachments.
type Message struct {
	To      []string
	Subject string
	Text    []byte
	HTML    []byte
	Inline  []Chart
	Attach  []Attachment
	// Headers are extra headers (X-Costgate-Report: month and scope).
	Headers map[string]string
	// Date is the Date header (default: the mailer's clock at sending).
	Date time.Time
}

// Message builds the email of the rendered report for the recipients.
func (x *Rendered) Message(to ...string) *Message {
	return &Message{
		To: to, Subject: x.Subject, Text: x.Text, HTML: x.MailHTML, Inline: x.Charts,
		Attach:  []Attachment{{Name: FileCSV, ContentType: "text/csv", Data: x.CSV}},
		Headers: map[string]string{"X-Costgate-Report": x.Report.Month.String() + " " + x.Report.Scope()},
	}
}

// Mailer sends messages over SMTP, retrying what may succeed later.
type Mailer struct {
	cfg   SMTPConfig
	log   *slog.Logger
	sleep func(context.Context, time.Duration) error
	now   func() time.Time
}

// MailerOption adjusts a Mailer.
type MailerOption func(*Mailer)

// WithSleep replaces the wait between attempts (tests).
func WithSleep(f func(context.Context, time.Duration) error) MailerOption {
	return func(m *Mailer) { m.sleep = f }
}

// WithClock sets the clock for the Date header (tests; default time.Now).
func WithClock(now func() time.Time) MailerOption { return func(m *Mailer) { m.now = now } }

// NewMailer checks cfg and returns a Mailer; logger nil is slog.Default().
func NewMailer(cfg SMTPConfig, logger *slog.Logger, opts ...MailerOption) (*Mailer, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.TLS == "" {
		cfg.TLS = TLSStartTLS
	}
	if cfg.Port == 0 {
		cfg.Port = DefaultPort(cfg.TLS)
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = 4
	}
	cfg.Timeout = orDefaultDuration(cfg.Timeout, 30*time.Second)
	cfg.Backoff = orDefaultDuration(cfg.Backoff, 5*time.Second)
	cfg.MaxBackoff = orDefaultDuration(cfg.MaxBackoff, 2*time.Minute)
	if logger == nil {
		logger = slog.Default()
	}
	m := &Mailer{cfg: cfg, log: logger.With("component", "reports.mail", "smtp", fmt.Sprintf("%s:%d", cfg.Host, cfg.Port)), sleep: sleepCtx, now: time.Now}
	for _, o := range opts {
		o(m)
	}
	return m, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// SendError is a message that could not be delivered.
type SendError struct {
	To       []string
	Attempts int
	// Permanent is true when the server refused for good (5xx) and the
	// message was not tried again.
	Permanent bool
	Err       error
}

func (e *SendError) Error() string {
	kind := "gave up"
	if e.Permanent {
		kind = "refused permanently"
	}
	return fmt.Sprintf("send report to %v: %s after %d attempt(s): %v", e.To, kind, e.Attempts, e.Err)
}

func (e *SendError) Unwrap() error { return e.Err }

// Send delivers msg, retrying connection failures and temporary (4xx)
// refusals with exponential backoff. It returns the number of attempts
// made; a failure is a *SendError.
func (m *Mailer) Send(ctx context.Context, msg *Message) (int, error) {
	gm, err := m.build(msg)
	if err != nil {
		return 0, err
	}
	wait := m.cfg.Backoff
	var last error
	for attempt := 1; attempt <= m.cfg.Attempts; attempt++ {
		last = m.sendOnce(ctx, gm)
		if last == nil {
			m.log.Info("sent report", "to", msg.To, "subject", msg.Subject, "attempt", attempt)
			return attempt, nil
		}
		if ctx.Err() != nil {
			return attempt, &SendError{To: msg.To, Attempts: attempt, Err: ctx.Err()}
		}
		if permanent(last) {
			m.log.Error("mail server refused the report", "to", msg.To, "attempt", attempt, "err", last)
			return attempt, &SendError{To: msg.To, Attempts: attempt, Permanent: true, Err: last}
		}
		if attempt == m.cfg.Attempts {
			break
		}
		m.log.Warn("send report failed; retrying", "to", msg.To, "attempt", attempt, "retry_in", wait, "err", last)
		if err := m.sleep(ctx, wait); err != nil {
			return attempt, &SendError{To: msg.To, Attempts: attempt, Err: errors.Join(last, err)}
		}
		wait = min(wait*2, m.cfg.MaxBackoff)
	}
	m.log.Error("send report failed", "to", msg.To, "attempts", m.cfg.Attempts, "err", last)
	return m.cfg.Attempts, &SendError{To: msg.To, Attempts: m.cfg.Attempts, Err: last}
}

func (m *Mailer) sendOnce(ctx context.Context, gm *gomail.Msg) error {
	opts := []gomail.Option{gomail.WithPort(m.cfg.Port), gomail.WithTimeout(m.cfg.Timeout)}
	tlsConf := &tls.Config{ServerName: m.cfg.Host, MinVersion: tls.VersionTLS12}
	if m.cfg.TLSConfig != nil {
		tlsConf = m.cfg.TLSConfig.Clone()
		if tlsConf.ServerName == "" {
			tlsConf.ServerName = m.cfg.Host
		}
	}
	switch m.cfg.TLS {
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory), gomail.WithTLSConfig(tlsConf))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL(), gomail.WithTLSConfig(tlsConf))
	}
	if m.cfg.Username != "" {
		// Without TLS, PLAIN (go-mail sends it unencrypted only to
		// localhost); with TLS, the strongest mechanism the server offers.
		auth := gomail.SMTPAuthAutoDiscover
		if m.cfg.TLS == TLSNone {
			auth = gomail.SMTPAuthPlain
		}
		opts = append(opts, gomail.WithSMTPAuth(auth),
			gomail.WithUsername(m.cfg.Username), gomail.WithPassword(m.cfg.Password.reveal()))
	}
	c, err := gomail.NewClient(m.cfg.Host, opts...)
	if err != nil {
		return err
	}
	actx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	return c.DialAndSendWithContext(actx, gm)
}

// permanent reports a 5xx reply: the server will not take the message.
func permanent(err error) bool {
	var se *gomail.SendError
	if errors.As(err, &se) {
		return !se.IsTemp() && se.ErrorCode() >= 500
	}
	var te *textproto.Error
	return errors.As(err, &te) && te.Code >= 500
}

func (m *Mailer) build(msg *Message) (*gomail.Msg, error) {
	gm := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	if err := gm.From(m.cfg.From); err != nil {
		return nil, fmt.Errorf("smtp.from: %w", err)
	}
	if len(msg.To) == 0 {
		return nil, errors.New("send report: no recipient")
	}
	if err := gm.To(msg.To...); err != nil {
		return nil, fmt.Errorf("recipients %v: %w", msg.To, err)
	}
	if m.cfg.ReplyTo != "" {
		if err := gm.ReplyTo(m.cfg.ReplyTo); err != nil {
			return nil, fmt.Errorf("smtp.reply_to: %w", err)
		}
	}
	gm.Subject(msg.Subject)
	date := msg.Date
	if date.IsZero() {
		date = m.now()
	}
	gm.SetDateWithValue(date)
	gm.SetMessageID()
	gm.SetGenHeader("User-Agent", "costgate")
	for k, v := range msg.Headers {
		gm.SetGenHeader(gomail.Header(k), v)
	}
	gm.SetBodyString(gomail.TypeTextPlain, string(msg.Text))
	if len(msg.HTML) > 0 {
		gm.AddAlternativeString(gomail.TypeTextHTML, string(msg.HTML))
	}
	for _, c := range msg.Inline {
		if err := gm.EmbedReader(c.Name, bytes.NewReader(c.PNG), gomail.WithFileContentID("<"+c.CID+">"),
			gomail.WithFileContentType(gomail.ContentType("image/png"))); err != nil {
			return nil, fmt.Errorf("embed %s: %w", c.Name, err)
		}
	}
	for _, a := range msg.Attach {
		ct := gomail.ContentType(a.ContentType)
		if ct == "" {
			ct = gomail.TypeAppOctetStream
		}
		if err := gm.AttachReader(a.Name, bytes.NewReader(a.Data), gomail.WithFileContentType(ct)); err != nil {
			return nil, fmt.Errorf("attach %s: %w", a.Name, err)
		}
	}
	return gm, nil
}
