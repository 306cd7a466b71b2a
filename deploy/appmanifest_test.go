package deploy_test

import (
	"maps"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/fluxdiff/fluxdiff/githubapp/githubtest"
)

// githubAppManifest is the shape GitHub's "register a GitHub App from a
// manifest" flow takes (docs.github.com, "Registering a GitHub App from a
// manifest": GitHub App manifest parameters). Decoding is strict, so a
// misspelt key fails the test instead of being ignored by GitHub.
type githubAppManifest struct {
	Name           string `json:"name"`
	Description    string `json:"description"`
	URL            string `json:"url"`
	HookAttributes struct {
		URL    string `json:"url"`
		Active bool   `json:"active"`
	} `json:"hook_attributes"`
	RedirectURL           string            `json:"redirect_url"`
	CallbackURLs          []string          `json:"callback_urls"`
	SetupURL              string            `json:"setup_url"`
	SetupOnUpdate         bool              `json:"setup_on_update"`
	RequestOAuthOnInstall bool              `json:"request_oauth_on_install"`
	Public                bool              `json:"public"`
	DefaultPermissions    map[string]string `json:"default_permissions"`
	DefaultEvents         []string          `json:"default_events"`
}

// readGitHubAppManifest reads deploy/github-app.yaml.
func readGitHubAppManifest(t *testing.T) githubAppManifest {
	t.Helper()
	var m githubAppManifest
	readYAML(t, "github-app.yaml", &m)
	return m
}

// TestGitHubAppManifestAsksForExactlyWhatFluxdiffUses: the permissions are
// those of the REST calls fluxdiff makes (check runs, contents tarballs,
// pull requests and reviews, issue comments; metadata is mandatory), the
// events those its webhook handles.
func TestGitHubAppManifestAsksForExactlyWhatFluxdiffUses(t *testing.T) {
	m := readGitHubAppManifest(t)
	wantPermissions := map[string]string{
		"checks":        "write",
		"contents":      "read",
		"pull_requests": "write",
		"issues":        "write",
		"metadata":      "read",
	}
	if diff := cmp.Diff(wantPermissions, m.DefaultPermissions); diff != "" {
		t.Errorf("default_permissions (-want +got):\n%s", diff)
	}
	events := slices.Sorted(slices.Values(m.DefaultEvents))
	if diff := cmp.Diff([]string{"check_run", "check_suite", "issue_comment", "pull_request"}, events); diff != "" {
		t.Errorf("default_events (-want +got):\n%s", diff)
	}
	if m.Name == "" || m.Public || !m.HookAttributes.Active {
		t.Errorf("name %q, public %v, hook active %v: want a name, a private App, an active hook", m.Name, m.Public, m.HookAttributes.Active)
	}
	for field, u := range map[string]string{"url": m.URL, "hook_attributes.url": m.HookAttributes.URL, "redirect_url": m.RedirectURL} {
		checkHTTPS(t, field, u)
	}
	if p := mustURL(t, m.HookAttributes.URL).Path; p != webhookPath {
		t.Errorf("hook_attributes.url path %q, want %s", p, webhookPath)
	}
}

// The paths fluxdiff serves (server/routes.go); TestDeploymentRunsTheServer
// posts to them on the real binary.
const (
	webhookPath           = "/webhooks/github"
	slackCommandsPath     = "/slack/commands"
	slackInteractionsPath = "/slack/interactions"
)

// slackAppManifest is the part of Slack's app manifest schema fluxdiff uses
// (docs.slack.dev, "App manifest reference"; the same fields as
// @slack/web-api's Manifest type). Strict decoding rejects unknown keys.
type slackAppManifest struct {
	Metadata struct {
		MajorVersion int `json:"major_version"`
		MinorVersion int `json:"minor_version"`
	} `json:"_metadata"`
	DisplayInformation struct {
		Name            string `json:"name"`
		Description     string `json:"description"`
		LongDescription string `json:"long_description"`
		BackgroundColor string `json:"background_color"`
	} `json:"display_information"`
	Features struct {
		BotUser struct {
			DisplayName  string `json:"display_name"`
			AlwaysOnline bool   `json:"always_online"`
		} `json:"bot_user"`
		SlashCommands []struct {
			Command      string `json:"command"`
			URL          string `json:"url"`
			Description  string `json:"description"`
			UsageHint    string `json:"usage_hint"`
			ShouldEscape bool   `json:"should_escape"`
		} `json:"slash_commands"`
	} `json:"features"`
	OAuthConfig struct {
		Scopes struct {
			Bot  []string `json:"bot"`
			User []string `json:"user"`
		} `json:"scopes"`
	} `json:"oauth_config"`
	Settings struct {
		Interactivity struct {
			IsEnabled  bool   `json:"is_enabled"`
			RequestURL string `json:"request_url"`
		} `json:"interactivity"`
		OrgDeployEnabled     bool `json:"org_deploy_enabled"`
		SocketModeEnabled    bool `json:"socket_mode_enabled"`
		TokenRotationEnabled bool `json:"token_rotation_enabled"`
	} `json:"settings"`
}

func readSlackAppManifest(t *testing.T) slackAppManifest {
	t.Helper()
	var m slackAppManifest
	readYAML(t, "slack-app.yaml", &m)
	return m
}

// TestSlackAppManifestDeclaresTheCommandInteractivityAndScopes checks the
// manifest against the schema's rules: display_information.name at most 35
// characters, bot_user.display_name at most 80 of a-z 0-9 - _ ., a command
// of at most 32 characters starting with "/", https request URLs (Socket
// Mode is off), and exactly the bot scopes fluxdiff calls for.
func TestSlackAppManifestDeclaresTheCommandInteractivityAndScopes(t *testing.T) {
	m := readSlackAppManifest(t)
	if n := m.DisplayInformation.Name; n == "" || len(n) > 35 {
		t.Errorf("display_information.name %q: want 1 to 35 characters", n)
	}
	if n := m.Features.BotUser.DisplayName; !regexp.MustCompile(`^[a-z0-9._-]{1,80}$`).MatchString(n) {
		t.Errorf("bot_user.display_name %q: want 1 to 80 of a-z 0-9 - _ .", n)
	}
	if len(m.Features.SlashCommands) != 1 {
		t.Fatalf("%d slash commands, want /flux-diff only", len(m.Features.SlashCommands))
	}
	cmd := m.Features.SlashCommands[0]
	if cmd.Command != "/flux-diff" || cmd.Description == "" || len(cmd.Description) > 2000 || len(cmd.UsageHint) > 1000 {
		t.Errorf("slash command %+v: want /flux-diff with a description", cmd)
	}
	checkHTTPS(t, "slash_commands[0].url", cmd.URL)
	if p := mustURL(t, cmd.URL).Path; p != slackCommandsPath {
		t.Errorf("slash command URL path %q, want %s", p, slackCommandsPath)
	}
	in := m.Settings.Interactivity
	checkHTTPS(t, "interactivity.request_url", in.RequestURL)
	if !in.IsEnabled || mustURL(t, in.RequestURL).Path != slackInteractionsPath {
		t.Errorf("interactivity %+v: want enabled, at %s", in, slackInteractionsPath)
	}
	if m.Settings.SocketModeEnabled {
		t.Error("socket mode is on: fluxdiff receives Slack's requests over HTTPS")
	}
	if diff := cmp.Diff([]string{"chat:write", "commands", "files:write", "usergroups:read"}, slices.Sorted(slices.Values(m.OAuthConfig.Scopes.Bot))); diff != "" {
		t.Errorf("bot scopes (-want +got):\n%s", diff)
	}
	if len(m.OAuthConfig.Scopes.User) != 0 {
		t.Errorf("user scopes %v: fluxdiff acts as its bot only", m.OAuthConfig.Scopes.User)
	}
	// Both manifests point at the same host.
	hosts := map[string]bool{}
	for _, u := range []string{cmd.URL, in.RequestURL, readGitHubAppManifest(t).HookAttributes.URL} {
		hosts[mustURL(t, u).Host] = true
	}
	if len(hosts) != 1 {
		t.Errorf("the manifests name several hosts: %v", slices.Collect(maps.Keys(hosts)))
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatalf("%q: %v", s, err)
	}
	return u
}

func checkHTTPS(t *testing.T, field, s string) {
	t.Helper()
	if u := mustURL(t, s); u.Scheme != "https" || u.Host == "" {
		t.Errorf("%s = %q: want an https URL", field, s)
	}
}

// TestGitHubAppPermissionsAreExactlyWhatTheEndToEndTestsNeeded joins the
// GitHub routes the two end-to-end tests called (each records them, and
// fails when its calls and its record differ) and requires the manifest's
// permissions to be exactly what those routes need: every route covered,
// and no permission that could be lowered with all of them still covered
// (Metadata read is mandatory for every App). The permission of each route
// is githubtest's table, from GitHub's "Permissions required for GitHub
// Apps".
func TestGitHubAppPermissionsAreExactlyWhatTheEndToEndTestsNeeded(t *testing.T) {
	var routes []string
	for _, f := range []string{"../server/testdata/github-routes.txt", "../server/internal/slacke2e/testdata/github-routes.txt"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		routes = append(routes, strings.Split(strings.TrimSpace(string(b)), "\n")...)
	}
	routes = slices.Compact(slices.Sorted(slices.Values(routes)))
	if err := githubtest.CheckPermissions(readGitHubAppManifest(t).DefaultPermissions, routes); err != nil {
		t.Error(err)
	}
}
