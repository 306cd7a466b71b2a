package chat

import (
	"slices"
	"time"

	"github.com/slack-go/slack"
)

// maxContextElements is the most elements of a context block
// (docs.slack.dev, "Context block").
const maxContextElements = 10

// MarkApproved returns a report message's blocks (as Render made them, or
// as Slack hands them back in an interaction payload) with the Approve PR
// button removed and ":white_check_mark: Approved by <@userID> at <time>"
// added to the status line. The other blocks are unchanged; blocks is not
// modified.
func MarkApproved(blocks []slack.Block, userID string, at time.Time) []slack.Block {
	note := mrkdwn(":white_check_mark: *Approved* by <@" + esc(userID) + "> " + slackDate(at))
	out := make([]slack.Block, 0, len(blocks)+1)
	noted := false
	for _, b := range blocks {
		switch b := b.(type) {
		case *slack.ContextBlock:
			if b.BlockID == blockStatus {
				c := *b
				els := slices.Clone(c.ContextElements.Elements)
				if len(els) >= maxContextElements {
					els = els[:maxContextElements-1]
				}
				c.ContextElements.Elements = append(els, note)
				out = append(out, &c)
				noted = true
				continue
			}
		case *slack.ActionBlock:
			if b.BlockID == blockActions && b.Elements != nil {
				a := *b
				els := slices.DeleteFunc(slices.Clone(b.Elements.ElementSet), func(e slack.BlockElement) bool {
					btn, ok := e.(*slack.ButtonBlockElement)
					return ok && btn.ActionID == ActionApprove
				})
				a.Elements = &slack.BlockElements{ElementSet: els}
				out = append(out, &a)
				continue
			}
		}
		out = append(out, b)
	}
	if !noted && len(out) < DefaultLimits.Blocks {
		out = append(out, slack.NewContextBlock(blockStatus, note))
	}
	return out
}
