package chattest

import (
	"encoding/json"
	"fmt"
	"unicode/utf16"
)

// Slack's Block Kit limits (docs.slack.dev, "Blocks", "Block elements",
// "Composition objects"), and the cumulative text limit behind
// msg_blocks_too_long, undocumented and observed near 12,000 characters
// (slackapi/bolt-js#2509).
const (
	maxBlocks        = 50
	maxBlockID       = 255
	maxHeaderText    = 150
	maxSectionText   = 3000
	maxFields        = 10
	maxFieldText     = 2000
	maxContextElems  = 10
	maxActionsElems  = 25
	maxButtonText    = 75
	maxButtonValue   = 2000
	maxURL           = 3000
	maxConfirmTitle  = 100
	maxConfirmText   = 300
	maxConfirmButton = 30
	maxTotalText     = 12000
)

// CheckBlocks checks a message's blocks JSON against Slack's limits. The
// error starts with the code Slack answers ("invalid_blocks" or
// "msg_blocks_too_long"), then says what is wrong.
func CheckBlocks(raw []byte) error {
	var blocks []map[string]any
	if err := json.Unmarshal(raw, &blocks); err != nil {
		return fmt.Errorf("invalid_blocks: not a JSON array of blocks: %v", err)
	}
	if len(blocks) > maxBlocks {
		return fmt.Errorf("invalid_blocks: %d blocks, at most %d", len(blocks), maxBlocks)
	}
	ids := map[string]bool{}
	actionIDs := map[string]bool{}
	for i, b := range blocks {
		id, _ := b["block_id"].(string)
		if id != "" {
			if ids[id] || n(id) > maxBlockID {
				return fmt.Errorf("invalid_blocks: block %d: block_id %q repeated or too long", i, id)
			}
			ids[id] = true
		}
		if err := checkBlock(b, actionIDs); err != nil {
			return fmt.Errorf("invalid_blocks: block %d (%v): %w", i, b["type"], err)
		}
	}
	total := 0
	for _, t := range texts(raw) {
		total += n(t)
	}
	if total > maxTotalText {
		return fmt.Errorf("msg_blocks_too_long: %d characters of text, at most %d", total, maxTotalText)
	}
	return nil
}

func checkBlock(b map[string]any, actionIDs map[string]bool) error {
	switch b["type"] {
	case "header":
		return checkText(b["text"], "plain_text", 1, maxHeaderText)
	case "section":
		fields, _ := b["fields"].([]any)
		if b["text"] == nil && len(fields) == 0 {
			return fmt.Errorf("neither text nor fields")
		}
		if b["text"] != nil {
			if err := checkText(b["text"], "", 1, maxSectionText); err != nil {
				return err
			}
		}
		if len(fields) > maxFields {
			return fmt.Errorf("%d fields, at most %d", len(fields), maxFields)
		}
		for _, f := range fields {
			if err := checkText(f, "", 1, maxFieldText); err != nil {
				return fmt.Errorf("field: %w", err)
			}
		}
		return nil
	case "context":
		els, _ := b["elements"].([]any)
		if len(els) == 0 || len(els) > maxContextElems {
			return fmt.Errorf("%d elements, want 1 to %d", len(els), maxContextElems)
		}
		for _, e := range els {
			if err := checkText(e, "", 1, maxSectionText); err != nil {
				return err
			}
		}
		return nil
	case "actions":
		els, _ := b["elements"].([]any)
		if len(els) == 0 || len(els) > maxActionsElems {
			return fmt.Errorf("%d elements, want 1 to %d", len(els), maxActionsElems)
		}
		for _, e := range els {
			if err := checkButton(e, actionIDs); err != nil {
				return err
			}
		}
		return nil
	case "divider":
		return nil
	}
	return fmt.Errorf("block type %v is not one fluxdiff uses", b["type"])
}

func checkButton(e any, actionIDs map[string]bool) error {
	m, _ := e.(map[string]any)
	if m["type"] != "button" {
		return fmt.Errorf("element type %v is not a button", m["type"])
	}
	if err := checkText(m["text"], "plain_text", 1, maxButtonText); err != nil {
		return fmt.Errorf("button: %w", err)
	}
	id, _ := m["action_id"].(string)
	if id == "" || n(id) > maxBlockID || actionIDs[id] {
		return fmt.Errorf("button action_id %q missing, too long or repeated", id)
	}
	actionIDs[id] = true
	if v, _ := m["value"].(string); n(v) > maxButtonValue {
		return fmt.Errorf("button value longer than %d", maxButtonValue)
	}
	if u, _ := m["url"].(string); n(u) > maxURL {
		return fmt.Errorf("button url longer than %d", maxURL)
	}
	if s, ok := m["style"].(string); ok && s != "primary" && s != "danger" {
		return fmt.Errorf("button style %q", s)
	}
	if c, ok := m["confirm"].(map[string]any); ok {
		for _, f := range []struct {
			key string
			max int
		}{{"title", maxConfirmTitle}, {"text", maxConfirmText}, {"confirm", maxConfirmButton}, {"deny", maxConfirmButton}} {
			if err := checkText(c[f.key], "", 1, f.max); err != nil {
				return fmt.Errorf("confirm %s: %w", f.key, err)
			}
		}
	}
	return nil
}

// checkText checks a text object; kind "" allows plain_text and mrkdwn.
func checkText(v any, kind string, min, max int) error {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("text is not a text object")
	}
	t, _ := m["type"].(string)
	if (kind != "" && t != kind) || (t != "plain_text" && t != "mrkdwn") {
		return fmt.Errorf("text type %q", t)
	}
	s, _ := m["text"].(string)
	if l := n(s); l < min || l > max {
		return fmt.Errorf("text of %d characters, want %d to %d", l, min, max)
	}
	return nil
}

// n counts characters as Slack does (UTF-16 code units).
func n(s string) int { return len(utf16.Encode([]rune(s))) }

// texts returns every "text" string in a blocks JSON document, in order.
func texts(raw []byte) []string {
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			if s, ok := v["text"].(string); ok {
				out = append(out, s)
			}
			for _, k := range []string{"text", "fields", "elements", "confirm", "title", "confirm", "deny"} {
				if x, ok := v[k]; ok {
					if _, isStr := x.(string); !isStr {
						walk(x)
					}
				}
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return out
}
