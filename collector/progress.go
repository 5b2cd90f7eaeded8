package collector

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Progress counts what a source has read. Sources add to it as they go;
// the counters are atomic.
type Progress struct {
	files, filesTotal atomic.Int64
	bytes, bytesTotal atomic.Int64
	rows              atomic.Int64
	parts, partsTotal atomic.Int64
}

// PlanPartitions adds partitions about to be written.
func (p *Progress) PlanPartitions(n int) { p.partsTotal.Add(int64(n)) }

// PartitionDone counts one partition written (or found unchanged).
func (p *Progress) PartitionDone() { p.parts.Add(1) }

// Plan adds files and bytes still to read (for the ETA).
func (p *Progress) Plan(files int, bytes int64) {
	p.filesTotal.Add(int64(files))
	p.bytesTotal.Add(bytes)
}

// FileDone counts one file read.
func (p *Progress) FileDone() { p.files.Add(1) }

// AddRows counts rows decoded.
func (p *Progress) AddRows(n int) { p.rows.Add(int64(n)) }

// AddBytes counts bytes read (compressed, as stored).
func (p *Progress) AddBytes(n int64) { p.bytes.Add(n) }

// Reader counts the bytes read through r.
func (p *Progress) Reader(r io.Reader) io.Reader { return &countingReader{r: r, p: p} }

type countingReader struct {
	r io.Reader
	p *Progress
}

func (c *countingReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.p.bytes.Add(int64(n))
	return n, err
}

// Counts is a snapshot of a Progress.
type Counts struct {
	Files, FilesTotal int64
	Bytes, BytesTotal int64
	Rows              int64
	Parts, PartsTotal int64
}

// Counts returns the current counters.
func (p *Progress) Counts() Counts {
	return Counts{
		Files: p.files.Load(), FilesTotal: p.filesTotal.Load(),
		Bytes: p.bytes.Load(), BytesTotal: p.bytesTotal.Load(),
		Rows:  p.rows.Load(),
		Parts: p.parts.Load(), PartsTotal: p.partsTotal.Load(),
	}
}

// statusLine redraws one line on a terminal: files, rows, bytes, rows/s
// and an ETA from the bytes still to read.
type statusLine struct {
	w     io.Writer
	every time.Duration
	now   func() time.Time

	mu    sync.Mutex
	name  string
	p     *Progress
	start time.Time
	width int
	stop  chan struct{}
	done  chan struct{}
}

func newStatusLine(w io.Writer, now func() time.Time) *statusLine {
	return &statusLine{w: w, every: 250 * time.Millisecond, now: now}
}

// begin starts redrawing for one source.
func (s *statusLine) begin(name string, p *Progress) {
	s.mu.Lock()
	s.name, s.p, s.start = name, p, s.now()
	s.stop, s.done = make(chan struct{}), make(chan struct{})
	s.mu.Unlock()
	go s.loop(s.stop, s.done)
}

// end stops redrawing and clears the line.
func (s *statusLine) end() {
	close(s.stop)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.width > 0 {
		fmt.Fprintf(s.w, "\r%s\r", strings.Repeat(" ", s.width))
		s.width = 0
	}
}

func (s *statusLine) loop(stop, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(s.every)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			s.draw()
		}
	}
}

func (s *statusLine) draw() {
	s.mu.Lock()
	defer s.mu.Unlock()
	line := formatStatus(s.name, s.p.Counts(), s.now().Sub(s.start))
	pad := ""
	if n := s.width - len(line); n > 0 {
		pad = strings.Repeat(" ", n)
	}
	fmt.Fprintf(s.w, "\r%s%s", line, pad)
	s.width = len(line)
}

// formatStatus renders the progress line, e.g.
// "aws-cur: 3/12 files, 1.2M rows, 340.0 MiB/1.1 GiB, 512k rows/s, ETA 42s".
func formatStatus(name string, c Counts, elapsed time.Duration) string {
	var b strings.Builder
	b.WriteString(name)
	b.WriteString(": ")
	if c.FilesTotal > 0 {
		fmt.Fprintf(&b, "%d/%d files", c.Files, c.FilesTotal)
	} else {
		fmt.Fprintf(&b, "%d files", c.Files)
	}
	fmt.Fprintf(&b, ", %s rows, %s", humanCount(c.Rows), humanBytes(c.Bytes))
	if c.BytesTotal > 0 {
		fmt.Fprintf(&b, "/%s", humanBytes(c.BytesTotal))
	}
	secs := elapsed.Seconds()
	if secs > 0 {
		fmt.Fprintf(&b, ", %s rows/s", humanCount(int64(float64(c.Rows)/secs)))
	}
	if c.PartsTotal > 0 {
		fmt.Fprintf(&b, ", %d/%d partitions written", c.Parts, c.PartsTotal)
	}
	if c.BytesTotal > 0 && c.Bytes > 0 && c.Bytes < c.BytesTotal && secs > 0 {
		rate := float64(c.Bytes) / secs
		eta := time.Duration(float64(c.BytesTotal-c.Bytes) / rate * float64(time.Second))
		fmt.Fprintf(&b, ", ETA %s", eta.Round(time.Second))
	}
	return b.String()
}

func humanCount(n int64) string {
	switch {
	case n >= 1_000_000_000:
		return fmt.Sprintf("%.1fG", float64(n)/1e9)
	case n >= 1_000_000:
		return fmt.Sprintf("%.1fM", float64(n)/1e6)
	case n >= 10_000:
		return fmt.Sprintf("%.0fk", float64(n)/1e3)
	}
	return fmt.Sprint(n)
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
