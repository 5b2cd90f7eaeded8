//go:build !(cgo && isal)

package tabular

import (
	"bufio"
	"io"

	"github.com/klauspost/compress/gzip"
)

// Gunzip names the gzip decoder this build uses: klauspost/compress,
// pure Go. Build with -tags isal (cgo and libisal-dev; the Makefile does
// it when the library is installed) for ISA-L, about 3 times faster.
const Gunzip = "klauspost/compress"

func gunzip(br *bufio.Reader) (io.Reader, error) {
	return gzip.NewReader(br)
}
