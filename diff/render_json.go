package diff

import (
	"encoding/json"
	"io"
)

// WriteJSON renders r as indented JSON in the shape of Report (schema
// SchemaVersion): field names and meanings are stable; new fields may be
// added. Besides Report's own fields it writes "blastRadius"
// (Report.BlastRadius), which decoding into a Report ignores.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		*Report
		BlastRadius BlastRadius `json:"blastRadius"`
	}{r, r.BlastRadius()})
}
