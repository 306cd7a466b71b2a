package chat

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/slack-go/slack"
)

func plain(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.PlainTextType, s, false, false)
}

func mrkdwn(s string) *slack.TextBlockObject {
	return slack.NewTextBlockObject(slack.MarkdownType, s, false, false)
}

func section(id, text string) *slack.SectionBlock {
	return slack.NewSectionBlock(mrkdwn(text), nil, nil, slack.SectionBlockOptionBlockID(id))
}

// blockText is the number of characters of every "text" in b, as Slack
// counts them towards a message's size.
func blockText(b slack.Block) int {
	raw, err := json.Marshal(b)
	if err != nil {
		return 0
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return 0
	}
	return textIn(v)
}

func textIn(v any) int {
	n := 0
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "text" {
				n += textLen(s)
			} else {
				n += textIn(x)
			}
		}
	case []any:
		for _, x := range v {
			n += textIn(x)
		}
	}
	return n
}

func blocksText(bs []slack.Block) int {
	n := 0
	for _, b := range bs {
		n += blockText(b)
	}
	return n
}

// tailBlocks are the status line and, for a stored pull request report,
// the buttons.
func tailBlocks(m Message) []slack.Block {
	blocks := []slack.Block{slack.NewContextBlock(blockStatus, mrkdwn(statusText(m)))}
	pr := m.Report.PullRequest
	if m.ReportID == 0 || pr == nil || pr.Number <= 0 {
		return blocks
	}
	value := strconv.FormatInt(m.ReportID, 10)
	post := slack.NewButtonBlockElement(ActionPostToPR, value, plain("Post diff to PR"))
	approve := slack.NewButtonBlockElement(ActionApprove, value, plain("Approve PR"))
	approve.Style = slack.StylePrimary
	approve.Confirm = slack.NewConfirmationBlockObject(
		plain("Approve this pull request?"),
		plain(ellipsize(fmt.Sprintf("fluxdiff will submit a GitHub review approving %s #%d at commit %s, naming you as the approver.", pr.Repo, pr.Number, short(pr.HeadSHA)), 300)),
		plain("Approve"), plain("Cancel"))
	elements := []slack.BlockElement{post, approve}
	if pr.URL != "" {
		view := slack.NewButtonBlockElement(ActionViewPR, value, plain("View PR"))
		view.URL = pr.URL
		elements = append(elements, view)
	}
	return append(blocks, slack.NewActionBlock(blockActions, elements...))
}

func statusText(m Message) string {
	text := "fluxdiff"
	if m.ReportID != 0 {
		text += fmt.Sprintf(" report %d", m.ReportID)
	}
	if t := m.Report.Created; !t.IsZero() {
		text += " · diffed " + slackDate(t)
	}
	if pr := m.Report.PullRequest; pr != nil && pr.RequestedBy != "" {
		text += " · asked by " + requester(pr.RequestedBy)
	}
	return text
}

// SlackRequester is the diff.PullRequestInfo.RequestedBy of a report asked
// for in Slack: "slack:" and the user ID. Render shows it as a mention.
func SlackRequester(userID string) string { return "slack:" + userID }

func requester(by string) string {
	if id, ok := strings.CutPrefix(by, "slack:"); ok && id != "" {
		return "<@" + esc(id) + ">"
	}
	return esc(by)
}

// slackDate shows t in each reader's time zone, with a UTC fallback
// (docs.slack.dev, "Formatting text": date formatting).
func slackDate(t time.Time) string {
	return fmt.Sprintf("<!date^%d^{date_short_pretty} {time}|%s>", t.Unix(), t.UTC().Format("2006-01-02 15:04 UTC"))
}
