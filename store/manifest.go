package store

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
)

// The MANIFEST names the live segments under a generation number. It is
// JSON wrapped with its own checksum, and it is only ever replaced whole:
// write MANIFEST.tmp, fsync it, rename it over MANIFEST, fsync the
// directory. A crash leaves the old or the new manifest, never a mix.
const (
	manifestName    = "MANIFEST"
	manifestTmp     = "MANIFEST.tmp"
	lockName        = "LOCK"
	manifestVersion = 1
)

var segmentFileRE = regexp.MustCompile(`^[0-9]{12}\.seg$`)

func segmentFileName(n uint64) string { return fmt.Sprintf("%012d.seg", n) }

type manifest struct {
	Version    int            `json:"version"`
	Generation uint64         `json:"generation"`
	NextFile   uint64         `json:"next_file"`
	Segments   []segmentEntry `json:"segments"`
}

// segmentEntry is the manifest's record of one live segment: enough to
// list partitions and prune queries without opening the file.
type segmentEntry struct {
	File             string `json:"file"`
	Table            string `json:"table"`
	Source           string `json:"source"`
	BillingAccountID string `json:"billing_account_id,omitempty"`
	BillingPeriod    string `json:"billing_period,omitempty"`
	Rows             uint64 `json:"rows"`
	Size             int64  `json:"size"`
	FooterCRC        uint32 `json:"footer_crc32c"`
	ExportID         string `json:"export_id,omitempty"`
	ContentHash      string `json:"content_hash,omitempty"`
	// MinTime and MaxTime bound ChargePeriodStart (unix nanoseconds).
	MinTime int64 `json:"min_time"`
	MaxTime int64 `json:"max_time"`
}

func (e *segmentEntry) key() string {
	return e.Table + "\x00" + e.Source + "\x00" + e.BillingAccountID + "\x00" + e.BillingPeriod
}

type manifestFile struct {
	CRC      uint32          `json:"crc32c"`
	Manifest json.RawMessage `json:"manifest"`
}

// readManifest loads dir's manifest; a missing one is an empty store.
func readManifest(dir string) (*manifest, error) {
	path := filepath.Join(dir, manifestName)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &manifest{Version: manifestVersion, NextFile: 1}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	var mf manifestFile
	if err := json.Unmarshal(b, &mf); err != nil {
		return nil, fmt.Errorf("read manifest %s: %w: %v", path, ErrCorrupt, err)
	}
	if got := crc32c(mf.Manifest); got != mf.CRC {
		return nil, fmt.Errorf("read manifest %s: %w: checksum mismatch (stored %08x, computed %08x)", path, ErrCorrupt, mf.CRC, got)
	}
	dec := json.NewDecoder(bytes.NewReader(mf.Manifest))
	dec.DisallowUnknownFields()
	var m manifest
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("read manifest %s: %w: %v", path, ErrCorrupt, err)
	}
	if m.Version != manifestVersion {
		return nil, fmt.Errorf("read manifest %s: version %d, this costgate reads version %d", path, m.Version, manifestVersion)
	}
	seen := map[string]bool{}
	keys := map[string]bool{}
	for _, e := range m.Segments {
		if !segmentFileRE.MatchString(e.File) || seen[e.File] {
			return nil, fmt.Errorf("read manifest %s: %w: bad or repeated segment %q", path, ErrCorrupt, e.File)
		}
		if keys[e.key()] {
			return nil, fmt.Errorf("read manifest %s: %w: partition of %s listed twice", path, ErrCorrupt, e.File)
		}
		seen[e.File], keys[e.key()] = true, true
	}
	return &m, nil
}

// writeManifest commits m: temp file, fsync, rename, fsync directory.
func writeManifest(dir string, m *manifest, noSync bool) error {
	body, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	b, err := json.Marshal(manifestFile{CRC: crc32c(body), Manifest: body})
	if err != nil {
		return fmt.Errorf("encode manifest: %w", err)
	}
	tmp := filepath.Join(dir, manifestTmp)
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("write manifest: %w", err)
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil && !noSync {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write manifest %s: %w", tmp, err)
	}
	hook("manifest-temp-written")
	if err := os.Rename(tmp, filepath.Join(dir, manifestName)); err != nil {
		return fmt.Errorf("commit manifest: %w", err)
	}
	hook("manifest-renamed")
	if noSync {
		return nil
	}
	return syncDir(dir)
}

func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // directories cannot be opened for sync there; rename is durable enough
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
}

// testHook, when set by a test, is called at the named points of a
// commit so crash tests can kill the process exactly there.
var testHook func(point string)

func hook(point string) {
	if testHook != nil {
		testHook(point)
	}
}
