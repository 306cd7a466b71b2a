package chat

import (
	"regexp"
	"strings"
	"unicode"
)

// slackLink matches a link as Slack escapes it in command text when the
// command has "Escape channels, users, and links" on: <URL> or <URL|label>
// (docs.slack.dev, "Formatting text for app surfaces").
var slackLink = regexp.MustCompile(`<((?:https?|mailto):[^|>]*)(?:\|[^>]*)?>`)

// entityReplacer undoes the HTML entities Slack uses for &, < and >.
var entityReplacer = strings.NewReplacer("&lt;", "<", "&gt;", ">", "&amp;", "&")

// quoteReplacer turns typographic quotes, which Slack clients may insert,
// into ASCII ones.
var quoteReplacer = strings.NewReplacer("\u201c", `"`, "\u201d", `"`, "\u2018", "'", "\u2019", "'")

// unescapeSlack turns command text as Slack sends it into what was typed.
func unescapeSlack(text string) string {
	text = slackLink.ReplaceAllString(text, "$1")
	return quoteReplacer.Replace(entityReplacer.Replace(text))
}

// splitArgs splits text at white space, keeping "double" or 'single'
// quoted parts together (quotes removed). An unterminated quote is a
// *UsageError.
func splitArgs(text string) ([]string, error) {
	var (
		args  []string
		cur   strings.Builder
		inArg bool
		quote rune
	)
	for _, r := range text {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, inArg = r, true
		case unicode.IsSpace(r):
			if inArg {
				args = append(args, cur.String())
				cur.Reset()
				inArg = false
			}
		default:
			cur.WriteRune(r)
			inArg = true
		}
	}
	if quote != 0 {
		return nil, usageErr("unterminated %c quote", quote)
	}
	if inArg {
		args = append(args, cur.String())
	}
	return args, nil
}
