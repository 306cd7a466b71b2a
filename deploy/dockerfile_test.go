package deploy_test

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"
)

// dockerfile holds the instructions of ../Dockerfile's final stage, by
// keyword (the last one wins, as in Docker), with continuation lines joined.
func dockerfile(t *testing.T) map[string]string {
	t.Helper()
	f, err := os.Open("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stage map[string]string
	var line string
	s := bufio.NewScanner(f)
	for s.Scan() {
		text := strings.TrimSpace(s.Text())
		if strings.HasPrefix(text, "#") || text == "" {
			continue
		}
		if strings.HasSuffix(text, "\\") {
			line += strings.TrimSuffix(text, "\\") + " "
			continue
		}
		line += text
		keyword, rest, _ := strings.Cut(line, " ")
		line = ""
		keyword = strings.ToUpper(keyword)
		if keyword == "FROM" {
			stage = map[string]string{}
		}
		if stage != nil {
			stage[keyword] = strings.TrimSpace(rest)
		}
	}
	if err := s.Err(); err != nil {
		t.Fatal(err)
	}
	return stage
}

// TestImageMatchesTheDeployment: there is no Docker engine in the test
// world, so the image's runtime settings are checked against the pod that
// runs it: the same user, the same working directory, the data volume where
// the Deployment mounts one, the container port exposed, the static binary
// as entrypoint.
func TestImageMatchesTheDeployment(t *testing.T) {
	img := dockerfile(t)
	d, c := deployment(t, build(t, "base"))
	if uid, _, _ := strings.Cut(img["USER"], ":"); uid != strconv.FormatInt(*d.Spec.Template.Spec.SecurityContext.RunAsUser, 10) {
		t.Errorf("image USER %q, pod runAsUser %d", img["USER"], *d.Spec.Template.Spec.SecurityContext.RunAsUser)
	}
	if img["WORKDIR"] != c.WorkingDir {
		t.Errorf("image WORKDIR %q, container workingDir %q", img["WORKDIR"], c.WorkingDir)
	}
	if want := `["` + mountPath(t, c, "data") + `"]`; img["VOLUME"] != want {
		t.Errorf("image VOLUME %s, want %s (the data mount)", img["VOLUME"], want)
	}
	if img["EXPOSE"] != strconv.Itoa(int(c.Ports[0].ContainerPort)) {
		t.Errorf("image EXPOSE %s, container port %d", img["EXPOSE"], c.Ports[0].ContainerPort)
	}
	if !strings.Contains(img["FROM"], "distroless/static") || !strings.Contains(img["FROM"], ":nonroot") {
		t.Errorf("runtime base %q, want distroless static, nonroot", img["FROM"])
	}
	if img["ENTRYPOINT"] != `["/usr/local/bin/fluxdiff"]` || c.Command != nil || c.Args[0] != "serve" {
		t.Errorf("entrypoint %s with args %q: want the binary, serve", img["ENTRYPOINT"], c.Args)
	}
}
