package chat

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/slack-go/slack"
)

// ErrNotOurs marks an interaction that is not a click on one of fluxdiff's
// report buttons (another payload type or action); it is acknowledged and
// ignored.
var ErrNotOurs = errors.New("chat: not a fluxdiff button")

// Interaction is a click on a report message's button.
type Interaction struct {
	// Action is ActionPostToPR, ActionApprove or ActionViewPR.
	Action string
	// ReportID is the stored report the message shows (the button value).
	ReportID int64
	// UserID is the Slack user who clicked, UserName their handle; TeamID
	// their workspace.
	UserID, UserName, TeamID string
	// Message is the report message; its TS is empty for an ephemeral one.
	Message MessageRef
	// Blocks are the message's blocks as Slack holds them (for
	// MarkApproved).
	Blocks []slack.Block
	// ResponseURL answers the user (Client.Respond).
	ResponseURL string
	// TriggerID is unique per click (with TeamID): a de-duplication key
	// for a request Slack sends again. ActionTS is the click's time as
	// Slack wrote it ("1795680001.000200").
	TriggerID, ActionTS string
}

// ParseInteraction parses the "payload" form value Slack posts to the
// interactivity URL (docs.slack.dev, "block_actions payload"). A payload
// that is not a block_actions click on a fluxdiff button is ErrNotOurs;
// a fluxdiff button with a bad report ID is another error.
func ParseInteraction(payload []byte) (Interaction, error) {
	var cb slack.InteractionCallback
	if err := json.Unmarshal(payload, &cb); err != nil {
		return Interaction{}, fmt.Errorf("chat: interaction payload: %w", err)
	}
	if cb.Type != slack.InteractionTypeBlockActions {
		return Interaction{}, fmt.Errorf("%w: payload type %q", ErrNotOurs, cb.Type)
	}
	var act *slack.BlockAction
	for _, a := range cb.ActionCallback.BlockActions {
		switch a.ActionID {
		case ActionPostToPR, ActionApprove, ActionViewPR:
			act = a
		}
	}
	if act == nil {
		return Interaction{}, fmt.Errorf("%w: no fluxdiff action among %d", ErrNotOurs, len(cb.ActionCallback.BlockActions))
	}
	id, err := strconv.ParseInt(act.Value, 10, 64)
	if err != nil || id <= 0 {
		return Interaction{}, fmt.Errorf("chat: button %s: value %q is not a report ID", act.ActionID, act.Value)
	}
	if cb.User.ID == "" {
		return Interaction{}, errors.New("chat: interaction without a user")
	}
	in := Interaction{
		Action: act.ActionID, ReportID: id,
		UserID: cb.User.ID, UserName: cmp.Or(cb.User.Username, cb.User.Name), TeamID: cb.Team.ID,
		Blocks: cb.Message.Blocks.BlockSet, ResponseURL: cb.ResponseURL,
		TriggerID: cb.TriggerID, ActionTS: act.ActionTs,
	}
	in.Message.Channel = cb.Container.ChannelID
	if in.Message.Channel == "" {
		in.Message.Channel = cb.Channel.ID
	}
	if !cb.Container.IsEphemeral {
		in.Message.TS = cb.Container.MessageTs
	}
	return in, nil
}

// EncodeBlocks writes blocks as the JSON array Slack uses, e.g. to keep an
// Interaction's Blocks in a queued job; DecodeBlocks reads it back.
func EncodeBlocks(blocks []slack.Block) (json.RawMessage, error) {
	if len(blocks) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(slack.Blocks{BlockSet: blocks})
	if err != nil {
		return nil, fmt.Errorf("chat: encode blocks: %w", err)
	}
	return b, nil
}

// DecodeBlocks reads a JSON array of Block Kit blocks written by
// EncodeBlocks or sent by Slack; empty input is no blocks.
func DecodeBlocks(raw json.RawMessage) ([]slack.Block, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var bs slack.Blocks
	if err := json.Unmarshal(raw, &bs); err != nil {
		return nil, fmt.Errorf("chat: decode blocks: %w", err)
	}
	return bs.BlockSet, nil
}
