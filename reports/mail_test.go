package reports_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/costgate/costgate/internal/reportdemo/smtpsink"
	"github.com/costgate/costgate/reports"
)

// renderedReport builds and renders the October 2026 company report of
// the shared store once.
var (
	renderOnce sync.Once
	rendered   *reports.Rendered
	renderErr  error
)

func testRendered(tb testing.TB) *reports.Rendered {
	tb.Helper()
	st := smallStore(tb)
	renderOnce.Do(func() {
		var r *reports.Report
		r, renderErr = reports.Build(context.Background(), st, goldenOptions())
		if renderErr == nil {
			rendered, renderErr = reports.Render(r)
		}
	})
	if renderErr != nil {
		tb.Fatal(renderErr)
	}
	return rendered
}

func startSink(tb testing.TB, opts smtpsink.Options) *smtpsink.Server {
	tb.Helper()
	s, err := smtpsink.Start(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// sleeps records the mailer's waits instead of sleeping.
type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	s.d = append(s.d, d)
	s.mu.Unlock()
	return nil
}

func newMailer(tb testing.TB, cfg reports.SMTPConfig, sl *sleeps) *reports.Mailer {
	tb.Helper()
	if sl == nil {
		sl = &sleeps{}
	}
	m, err := reports.NewMailer(cfg, quiet, reports.WithSleep(sl.sleep),
		reports.WithClock(fixedClock(time.Date(2026, 11, 2, 8, 0, 0, 0, time.UTC))))
	if err != nil {
		tb.Fatal(err)
	}
	return m
}

// mimePart is a parsed MIME tree node.
type mimePart struct {
	mediaType string
	params    map[string]string
	header    map[string][]string
	body      []byte
	parts     []*mimePart
}

func parseMIME(tb testing.TB, header map[string][]string, body io.Reader) *mimePart {
	tb.Helper()
	get := func(k string) string {
		if v := header[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	mt, params, err := mime.ParseMediaType(get("Content-Type"))
	if err != nil {
		tb.Fatalf("content type %q: %v", get("Content-Type"), err)
	}
	p := &mimePart{mediaType: mt, params: params, header: header}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextRawPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				tb.Fatal(err)
			}
			p.parts = append(p.parts, parseMIME(tb, part.Header, part))
		}
		return p
	}
	raw, err := io.ReadAll(body)
	if err != nil {
		tb.Fatal(err)
	}
	p.body = decodeBody(tb, get("Content-Transfer-Encoding"), raw)
	return p
}

func decodeBody(tb testing.TB, enc string, raw []byte) []byte {
	tb.Helper()
	switch strings.ToLower(enc) {
	case "base64":
		var out bytes.Buffer
		dec := mimeBase64(bytes.NewReader(raw))
		if _, err := io.Copy(&out, dec); err != nil {
			tb.Fatalf("base64: %v", err)
		}
		return out.Bytes()
	case "quoted-printable":
		b, err := io.ReadAll(quotedPrintable(bytes.NewReader(raw)))
		if err != nil {
			tb.Fatalf("quoted-printable: %v", err)
		}
		return b
	}
	return raw
}

var cidRE = regexp.MustCompile(`src="cid:([^"]+)"`)

// checkReportMail asserts the MIME structure of a delivered report:
// mixed{related{alternative{text, html}, PNG...}, report.csv}.
func checkReportMail(t *testing.T, data []byte, rd *reports.Rendered, to string) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	dec := new(mime.WordDecoder)
	subject, err := dec.DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subject != rd.Subject {
		t.Errorf("Subject = %q (%v), want %q", subject, err, rd.Subject)
	}
	for k, want := range map[string]string{"From": `"costgate" <finops@example.com>`, "To": "<" + to + ">",
		"Reply-To": "<finance-team@example.com>", "X-Costgate-Report": "2026-10 company", "Mime-Version": "1.0"} {
		if got := msg.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	if msg.Header.Get("Message-Id") == "" || msg.Header.Get("Date") == "" {
		t.Errorf("no Message-Id or Date: %v", msg.Header)
	}
	root := parseMIME(t, msg.Header, msg.Body)
	if root.mediaType != "multipart/mixed" || len(root.parts) != 2 {
		t.Fatalf("top = %s with %d parts, want multipart/mixed with related + csv", root.mediaType, len(root.parts))
	}
	related, csvPart := root.parts[0], root.parts[1]
	if related.mediaType != "multipart/related" {
		t.Fatalf("first part %s, want multipart/related", related.mediaType)
	}
	alt := related.parts[0]
	if alt.mediaType != "multipart/alternative" || len(alt.parts) != 2 {
		t.Fatalf("related[0] = %s with %d parts, want multipart/alternative {text, html}", alt.mediaType, len(alt.parts))
	}
	if alt.parts[0].mediaType != "text/plain" || alt.parts[1].mediaType != "text/html" {
		t.Errorf("alternative = %s, %s; want text/plain then text/html", alt.parts[0].mediaType, alt.parts[1].mediaType)
	}
	if !bytes.Equal(bytes.ReplaceAll(alt.parts[0].body, []byte("\r\n"), []byte("\n")), rd.Text) {
		t.Errorf("text part differs from report.txt")
	}
	html := strings.ReplaceAll(string(alt.parts[1].body), "\r\n", "\n")
	if html != string(rd.MailHTML) {
		t.Errorf("html part differs from the rendered mail HTML")
	}
	refs := map[string]bool{}
	for _, m := range cidRE.FindAllStringSubmatch(html, -1) {
		refs[m[1]] = true
	}
	images := map[string][]byte{}
	for _, p := range related.parts[1:] {
		if p.mediaType != "image/png" {
			t.Errorf("inline part %s, want image/png", p.mediaType)
		}
		cid := strings.Trim(p.header["Content-Id"][0], "<>")
		if disp := p.header["Content-Disposition"]; len(disp) == 0 || !strings.HasPrefix(disp[0], "inline") {
			t.Errorf("image %s: disposition %v, want inline", cid, disp)
		}
		if !bytes.HasPrefix(p.body, []byte("\x89PNG\r\n\x1a\n")) {
			t.Errorf("image %s is not a PNG", cid)
		}
		images[cid] = p.body
	}
	if len(refs) == 0 || len(refs) != len(images) {
		t.Errorf("HTML refers to %d cid images, the mail has %d", len(refs), len(images))
	}
	for cid := range refs {
		if _, ok := images[cid]; !ok {
			t.Errorf("HTML refers to cid:%s, which no inline part carries", cid)
		}
	}
	for _, c := range rd.Charts {
		if !bytes.Equal(images[c.CID], c.PNG) {
			t.Errorf("image %s differs from the rendered chart", c.CID)
		}
	}
	if csvPart.mediaType != "text/csv" {
		t.Errorf("attachment type %s, want text/csv", csvPart.mediaType)
	}
	if disp := csvPart.header["Content-Disposition"]; len(disp) == 0 || !strings.Contains(disp[0], `attachment`) || !strings.Contains(disp[0], "report.csv") {
		t.Errorf("attachment disposition %v", disp)
	}
	if !bytes.Equal(csvPart.body, rd.CSV) {
		t.Errorf("attached CSV differs from report.csv")
	}
}

func baseSMTP(s *smtpsink.Server) reports.SMTPConfig {
	return reports.SMTPConfig{Host: s.Host, Port: s.Port, From: "costgate <finops@example.com>",
		ReplyTo: "finance-team@example.com", TLS: reports.TLSNone, Timeout: 5 * time.Second, Backoff: time.Second}
}

func TestSendMIMEStructure(t *testing.T) {
	rd := testRendered(t)
	certs, roots, err := smtpsink.SelfSigned()
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]struct {
		opts smtpsink.Options
		tls  string
	}{
		"plain with auth": {opts: smtpsink.Options{Users: map[string]string{"reporter": "s3cret"}}, tls: reports.TLSNone},
		"starttls":        {opts: smtpsink.Options{TLS: certs, Users: map[string]string{"reporter": "s3cret"}}, tls: reports.TLSStartTLS},
		"implicit tls":    {opts: smtpsink.Options{TLS: certs, Implicit: true, Users: map[string]string{"reporter": "s3cret"}}, tls: reports.TLSImplicit},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := startSink(t, tc.opts)
			cfg := baseSMTP(s)
			cfg.TLS = tc.tls
			cfg.Username, cfg.Password = "reporter", "s3cret"
			cfg.TLSConfig = &tls.Config{RootCAs: roots}
			attempts, err := newMailer(t, cfg, nil).Send(context.Background(), rd.Message("cfo@example.com"))
			if err != nil || attempts != 1 {
				t.Fatalf("Send = %d, %v", attempts, err)
			}
			msgs := s.Messages()
			if len(msgs) != 1 {
				t.Fatalf("server got %d messages", len(msgs))
			}
			m := msgs[0]
			if m.From != "finops@example.com" || len(m.To) != 1 || m.To[0] != "cfo@example.com" || m.User != "reporter" {
				t.Errorf("envelope from %q to %v user %q", m.From, m.To, m.User)
			}
			checkReportMail(t, m.Data, rd, "cfo@example.com")
		})
	}
}

func TestSendWrongPasswordIsPermanent(t *testing.T) {
	rd := testRendered(t)
	s := startSink(t, smtpsink.Options{Users: map[string]string{"reporter": "s3cret"}})
	cfg := baseSMTP(s)
	cfg.Username, cfg.Password = "reporter", "wrong"
	sl := &sleeps{}
	attempts, err := newMailer(t, cfg, sl).Send(context.Background(), rd.Message("cfo@example.com"))
	var se *reports.SendError
	if !errors.As(err, &se) || !se.Permanent || attempts != 1 || len(sl.d) != 0 {
		t.Fatalf("Send = %d, %v (sleeps %v), want one attempt and a permanent error", attempts, err, sl.d)
	}
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("error shows the password: %v", err)
	}
}

// TestSendRetries: the server refuses (421), then drops the connection in
// DATA, then accepts; the mailer backs off twice and delivers once.
func TestSendRetries(t *testing.T) {
	rd := testRendered(t)
	script := func(n int) smtpsink.Behavior {
		return map[int]smtpsink.Behavior{1: smtpsink.Refuse, 2: smtpsink.Drop}[n]
	}
	s := startSink(t, smtpsink.Options{Script: script})
	sl := &sleeps{}
	attempts, err := newMailer(t, baseSMTP(s), sl).Send(context.Background(), rd.Message("cfo@example.com"))
	if err != nil || attempts != 3 {
		t.Fatalf("Send = %d attempts, %v; want 3, nil", attempts, err)
	}
	if want := []time.Duration{time.Second, 2 * time.Second}; !equalDurations(sl.d, want) {
		t.Errorf("backoff %v, want %v", sl.d, want)
	}
	if n := len(s.Messages()); n != 1 {
		t.Errorf("server has %d messages, want 1", n)
	}
	if s.Connections() != 3 {
		t.Errorf("server saw %d sessions, want 3", s.Connections())
	}
}

func TestSendGivesUp(t *testing.T) {
	rd := testRendered(t)
	tests := map[string]struct {
		script    smtpsink.Behavior
		attempts  int
		permanent bool
	}{
		"always refused":   {script: smtpsink.Refuse, attempts: 3},
		"always dropped":   {script: smtpsink.Drop, attempts: 3},
		"mailbox rejected": {script: smtpsink.RejectRcpt, attempts: 1, permanent: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			s := startSink(t, smtpsink.Options{Script: func(int) smtpsink.Behavior { return tc.script }})
			cfg := baseSMTP(s)
			cfg.Attempts = 3
			attempts, err := newMailer(t, cfg, nil).Send(context.Background(), rd.Message("cfo@example.com"))
			var se *reports.SendError
			if !errors.As(err, &se) {
				t.Fatalf("Send = %d, %v; want a *SendError", attempts, err)
			}
			if attempts != tc.attempts || se.Attempts != tc.attempts || se.Permanent != tc.permanent {
				t.Errorf("attempts %d (error says %d), permanent %v; want %d, %v: %v", attempts, se.Attempts, se.Permanent, tc.attempts, tc.permanent, err)
			}
			if !strings.Contains(err.Error(), "cfo@example.com") {
				t.Errorf("error does not name the recipient: %v", err)
			}
			if len(s.Messages()) != 0 {
				t.Errorf("a message was delivered")
			}
		})
	}
}

func TestDeliverIdempotent(t *testing.T) {
	rd := testRendered(t)
	s := startSink(t, smtpsink.Options{})
	logPath := filepath.Join(t.TempDir(), "sent", "report-sent.json")
	d := &reports.Deliverer{Mailer: newMailer(t, baseSMTP(s), nil), Log: reports.OpenSentLog(logPath),
		Now: fixedClock(time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC))}
	to := []string{"cfo@example.com", "Finance <FINANCE@example.com>", "cfo@example.com"}
	statuses := func(rs []reports.DeliveryResult) string {
		var s []string
		for _, r := range rs {
			s = append(s, r.Status)
		}
		return strings.Join(s, ",")
	}
	res, err := d.Deliver(context.Background(), rd, to, false)
	if err != nil || statuses(res) != "sent,sent" {
		t.Fatalf("first delivery %s, %v", statuses(res), err)
	}
	res, err = d.Deliver(context.Background(), rd, to, false)
	if err != nil || statuses(res) != "skipped,skipped" || !res[0].SentAt.Equal(time.Date(2026, 11, 1, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("second delivery %s (%v), %v; want skipped", statuses(res), res, err)
	}
	if n := len(s.Messages()); n != 2 {
		t.Fatalf("server got %d messages after two deliveries, want 2", n)
	}
	// Reopened from the file, the log still knows.
	d.Log = reports.OpenSentLog(logPath)
	res, err = d.Deliver(context.Background(), rd, []string{"finance@example.com"}, false)
	if err != nil || statuses(res) != "skipped" {
		t.Fatalf("after reopen %s, %v", statuses(res), err)
	}
	res, err = d.Deliver(context.Background(), rd, []string{"finance@example.com"}, true)
	if err != nil || statuses(res) != "sent" || len(s.Messages()) != 3 {
		t.Fatalf("forced %s, %v, %d messages", statuses(res), err, len(s.Messages()))
	}
	b, err := os.ReadFile(logPath)
	if err != nil || !strings.Contains(string(b), `"recipient": "finance@example.com"`) || !strings.Contains(string(b), `"scope": "company"`) {
		t.Errorf("sent log:\n%s\n%v", b, err)
	}
}

func TestSecretRedacted(t *testing.T) {
	cfg := reports.SMTPConfig{Host: "h", From: "a@b.c", Username: "u", Password: "hunter2"}
	for _, s := range []string{cfgString(cfg), cfg.Password.String()} {
		if strings.Contains(s, "hunter2") {
			t.Errorf("password printed: %s", s)
		}
	}
}

func equalDurations(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func mimeBase64(r io.Reader) io.Reader      { return base64.NewDecoder(base64.StdEncoding, r) }
func quotedPrintable(r io.Reader) io.Reader { return quotedprintable.NewReader(r) }
func cfgString(c reports.SMTPConfig) string { return fmt.Sprintf("%v %+v %#v", c, c, c) }
