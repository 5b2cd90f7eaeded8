package gate

import (
	"encoding/json"
	"fmt"
	"io"
)

func init() {
	registerFormat("json", func(FormatOptions) Formatter { return formatterFunc(writeJSON) })
}

// writeJSON writes the stable decision document (DESIGN.md, "Decision
// JSON"): indented by two spaces, ending in a newline, findings always an
// array. HTML characters are not escaped, so messages read as written.
func writeJSON(w io.Writer, r *Report) error {
	d, err := reportDecision(r)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(d); err != nil {
		return fmt.Errorf("write json decision: %w", err)
	}
	return nil
}
