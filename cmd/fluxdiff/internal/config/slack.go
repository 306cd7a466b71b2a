package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Slack ID shapes (docs.slack.dev, "Slack IDs"): users U… or W…
// (Enterprise Grid), user groups S…; GitHub logins are 1-39 letters,
// digits and hyphens.
var (
	slackUserID  = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)
	slackGroupID = regexp.MustCompile(`^S[A-Z0-9]{2,}$`)
	githubLogin  = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$`)
)

// validateIDs checks approvers, githubLogins, channels and reportTTL.
func (s Slack) validateIDs() []error {
	var problems []error
	add := func(format string, args ...any) { problems = append(problems, fmt.Errorf(format, args...)) }
	for i, a := range s.Approvers {
		if !slackUserID.MatchString(a) && !slackGroupID.MatchString(a) {
			add("slack.approvers[%d]: %q is not a Slack user ID (U…, W…) or user group ID (S…)", i, a)
		}
	}
	for _, user := range sortedKeys(s.GitHubLogins) {
		if !slackUserID.MatchString(user) {
			add("slack.githubLogins: key %q is not a Slack user ID (U…, W…)", user)
		}
		if login := s.GitHubLogins[user]; !githubLogin.MatchString(login) {
			add("slack.githubLogins[%s]: %q is not a GitHub login", user, login)
		}
	}
	for _, repo := range sortedKeys(s.Channels) {
		if owner, name, ok := strings.Cut(repo, "/"); !ok || owner == "" || name == "" || strings.Contains(name, "/") {
			add("slack.channels: key %q is not owner/name", repo)
		}
		if strings.ContainsAny(s.Channels[repo], " \t\n") {
			add("slack.channels[%s]: %q is not a channel", repo, s.Channels[repo])
		}
	}
	if strings.ContainsAny(s.Channel, " \t\n") {
		add("slack.channel: %q is not a channel", s.Channel)
	}
	if s.ReportTTL.Duration < 0 {
		add("slack.reportTTL: must be positive")
	}
	return problems
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// splitList splits a comma- or space-separated environment value.
func splitList(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' })
}
