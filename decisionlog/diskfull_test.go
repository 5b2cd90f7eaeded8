package decisionlog

import (
	"errors"
	"fmt"
	"io/fs"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestDiskFull: the errors a full disk gives each backend are told from
// others, wrapped as the drivers return them.
func TestDiskFull(t *testing.T) {
	full := []error{
		fmt.Errorf("append decision: %w", &pgconn.PgError{Code: "53100", Message: "could not extend file"}),
		fmt.Errorf("append decision: %w", &fs.PathError{Op: "write", Path: "d.db-wal", Err: syscall.ENOSPC}),
		fmt.Errorf("append decision: %w", codeErr(13)),
		codeErr(13 | 1<<8), // an extended SQLITE_FULL code
	}
	for _, err := range full {
		if !diskFull(err) {
			t.Errorf("%v: not seen as a full disk", err)
		}
	}
	other := []error{
		&pgconn.PgError{Code: "23505"}, codeErr(5), errors.New("database or disk is full"), syscall.EACCES,
	}
	for _, err := range other {
		if diskFull(err) {
			t.Errorf("%v: seen as a full disk", err)
		}
	}
}

type codeErr int

func (c codeErr) Error() string { return fmt.Sprintf("sqlite code %d", int(c)) }
func (c codeErr) Code() int     { return int(c) }
