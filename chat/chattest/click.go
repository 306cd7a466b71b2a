package chattest

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Click is the block_actions payload Slack posts to the interactivity URL
// (as the form value "payload") when userID presses the button action of
// message m (docs.slack.dev, "block_actions payload"): the message's
// blocks, the button's value, a fresh trigger ID and a response URL of
// this server, which it also returns. It fails when m has no such button.
func (s *Server) Click(m Message, action, userID string) (payload []byte, responseURL string, err error) {
	value, err := buttonValue(m, action)
	if err != nil {
		return nil, "", err
	}
	responseURL = s.ResponseURL(m.Channel, m.TS)
	s.mu.Lock()
	s.clock++
	trigger := fmt.Sprintf("%d.%d.trigger", time.Now().Unix(), s.clock)
	s.mu.Unlock()
	name := strings.ToLower(userID)
	p := map[string]any{
		"type": "block_actions", "api_app_id": "A0FLUXDIFF", "trigger_id": trigger,
		"user":         map[string]any{"id": userID, "username": name, "name": name, "team_id": "T0FLUX"},
		"team":         map[string]any{"id": "T0FLUX", "domain": "acme"},
		"container":    map[string]any{"type": "message", "message_ts": m.TS, "channel_id": m.Channel, "is_ephemeral": false},
		"channel":      map[string]any{"id": m.Channel, "name": "deploys"},
		"message":      map[string]any{"type": "message", "ts": m.TS, "text": m.Text, "blocks": m.Blocks},
		"response_url": responseURL,
		"actions": []any{map[string]any{"action_id": action, "block_id": "fluxdiff_actions", "value": value, "type": "button",
			"text": map[string]any{"type": "plain_text", "text": action}, "action_ts": fmt.Sprint(time.Now().Unix())}},
	}
	payload, err = json.Marshal(p)
	return payload, responseURL, err
}

// buttonValue is the value of button action in m.
func buttonValue(m Message, action string) (string, error) {
	var blocks []struct {
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	if err := json.Unmarshal(m.Blocks, &blocks); err != nil {
		return "", fmt.Errorf("chattest: blocks of message %s: %w", m.TS, err)
	}
	for _, b := range blocks {
		for _, e := range b.Elements {
			if e.ActionID == action {
				return e.Value, nil
			}
		}
	}
	return "", fmt.Errorf("chattest: message %s has no %s button", m.TS, action)
}
