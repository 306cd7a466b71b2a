package diff

import (
	"encoding/json"
	"io"
)

// WriteJSON renders r as indented JSON in the shape of Report (schema
// SchemaVersion): field names and meanings are stable; new fields may be
// added.
func WriteJSON(w io.Writer, r *Report) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}
