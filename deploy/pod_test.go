package deploy_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/yaml"
)

// podFS lays the pod's volumes out under a temporary folder that stands for
// the container's root: a path p in the container is root+p on the host.
type podFS struct{ root string }

func (f podFS) host(p string) string { return filepath.Join(f.root, filepath.FromSlash(p)) }

// rewrite maps every container path under one of mounts in s to the host,
// in one pass (the host paths may themselves start like a mount's).
func (f podFS) rewrite(s string, mounts []corev1.VolumeMount) string {
	var pairs []string
	for _, m := range mounts {
		pairs = append(pairs, m.MountPath+"/", f.host(m.MountPath)+string(filepath.Separator))
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// TestDeploymentRunsTheServer runs the real fluxdiff binary as the single
// overlay's pod would run it: the container's args, working directory and
// environment (secretKeyRef resolved from a Secret with the keys README.md
// names), the ConfigMap and the Secret's files laid out as the projected
// volume mounts them. Then it asks the probes' paths, posts to the paths the
// App manifests register, and stops it as the kubelet does.
func TestDeploymentRunsTheServer(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the fluxdiff binary")
	}
	objs := build(t, "overlays/single")
	d, c := deployment(t, objs)
	const webhookSecret = "webhook-secret-canary-9f3a"
	secret := map[string]string{"github-app-id": "123456", "github-app.pem": rsaKeyPEM(t), "webhook-secret": webhookSecret}
	fs := podFS{root: t.TempDir()}
	cmd, addr := podCommand(t, fs, objs, secret)
	logs := startLogged(t, cmd)

	base := "http://" + addr
	waitUntilServing(t, base+c.LivenessProbe.HTTPGet.Path)
	for _, tc := range []struct {
		method, path string
		want         []int
	}{
		{http.MethodGet, c.LivenessProbe.HTTPGet.Path, []int{http.StatusOK}},
		// No cluster is reachable here (no kubeconfig, not in a pod), which
		// must not take the pod out of its Service ...
		{http.MethodGet, c.ReadinessProbe.HTTPGet.Path, []int{http.StatusOK}},
		// ... while the full report says so.
		{http.MethodGet, "/readyz", []int{http.StatusServiceUnavailable}},
		// The App manifests' paths are routes: the configured GitHub App
		// refuses an unsigned webhook; Slack, not configured, says so.
		{http.MethodPost, webhookPath, []int{http.StatusUnauthorized, http.StatusBadRequest}},
		{http.MethodPost, slackCommandsPath, []int{http.StatusServiceUnavailable}},
		{http.MethodPost, slackInteractionsPath, []int{http.StatusServiceUnavailable}},
	} {
		if got := status(t, tc.method, base+tc.path); !slices.Contains(tc.want, got) {
			t.Errorf("%s %s = %d, want one of %v", tc.method, tc.path, got, tc.want)
		}
	}

	stopWithin(t, cmd, time.Duration(*d.Spec.Template.Spec.TerminationGracePeriodSeconds)*time.Second)
	if _, err := os.Stat(filepath.Join(fs.host(mountPath(t, c, "data")), "fluxdiff.db")); err != nil {
		t.Errorf("the SQLite store is not on the data volume: %v", err)
	}
	out := logs()
	if !strings.Contains(out, `"msg":"stopped"`) {
		t.Errorf("no graceful stop logged:\n%s", out)
	}
	for _, s := range []string{webhookSecret, "PRIVATE KEY"} {
		if strings.Contains(out, s) {
			t.Errorf("the logs contain a secret (%s...)", s[:8])
		}
	}
}

// podCommand prepares the fluxdiff container of the Deployment in objs to
// run on this machine under fs: its volumes (the projected config volume
// filled from the ConfigMap and from secret, the others empty), args,
// working directory and environment, listening on a free local address
// (returned) instead of the container's port.
func podCommand(t *testing.T, fs podFS, objs []*unstructured.Unstructured, secret map[string]string) (*exec.Cmd, string) {
	t.Helper()
	d, c := deployment(t, objs)
	cm := ofKind(objs, "ConfigMap")[0]
	for _, m := range c.VolumeMounts {
		if err := os.MkdirAll(fs.host(m.MountPath), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	fillConfigVolume(t, fs, c, volume(t, d, "config").Projected, cm, secret)

	var cfg struct{ Listen string }
	if err := yaml.Unmarshal([]byte(cm.Object["data"].(map[string]any)["config.yaml"].(string)), &cfg); err != nil {
		t.Fatal(err)
	}
	if _, port, _ := net.SplitHostPort(cfg.Listen); port != strconv.Itoa(int(c.Ports[0].ContainerPort)) {
		t.Errorf("config.yaml listens on %q, the container port is %d", cfg.Listen, c.Ports[0].ContainerPort)
	}
	addr := freeAddr(t)
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "TMPDIR=" + fs.host("/tmp"), "FLUXDIFF_LISTEN=" + addr}
	for _, e := range c.Env {
		v := e.Value
		if ref := e.ValueFrom; ref != nil {
			if ref.SecretKeyRef == nil || ref.SecretKeyRef.Name != "fluxdiff" {
				t.Fatalf("env %s comes from %+v, not the Secret fluxdiff", e.Name, ref)
			}
			v = secret[ref.SecretKeyRef.Key]
		}
		env = append(env, e.Name+"="+v)
	}
	var args []string
	for _, a := range c.Args {
		args = append(args, fs.rewrite(a, c.VolumeMounts))
	}
	cmd := exec.Command(buildFluxdiff(t), args...)
	cmd.Dir, cmd.Env = fs.host(c.WorkingDir), env
	return cmd, addr
}

// fillConfigVolume writes the files the projected volume holds: the
// ConfigMap's items (container paths in them mapped to fs) and the Secret's,
// failing t when a required key is missing from secret.
func fillConfigVolume(t *testing.T, fs podFS, c *corev1.Container, v *corev1.ProjectedVolumeSource, cm *unstructured.Unstructured, secret map[string]string) {
	t.Helper()
	dir := mountPath(t, c, "config")
	for _, src := range v.Sources {
		switch {
		case src.ConfigMap != nil:
			for _, it := range src.ConfigMap.Items {
				data := cm.Object["data"].(map[string]any)[it.Key].(string)
				writeFile(t, fs.host(dir+"/"+it.Path), fs.rewrite(data, c.VolumeMounts))
			}
		case src.Secret != nil:
			for _, it := range src.Secret.Items {
				val, ok := secret[it.Key]
				if !ok && (src.Secret.Optional == nil || !*src.Secret.Optional) {
					t.Fatalf("the Secret lacks the required key %s", it.Key)
				}
				if ok {
					writeFile(t, fs.host(dir+"/"+it.Path), val)
				}
			}
		}
	}
}

// buildFluxdiff compiles ./cmd/fluxdiff into a temporary folder.
func buildFluxdiff(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "fluxdiff")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/fluxdiff").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func rsaKeyPEM(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
}

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o440); err != nil {
		t.Fatal(err)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startLogged starts cmd, killing it when t ends, and returns a function
// that gives its standard error so far (all of it once cmd.Wait returned).
func startLogged(t *testing.T, cmd *exec.Cmd) func() string {
	t.Helper()
	var b lockedBuffer
	cmd.Stderr = &b
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		if t.Failed() {
			t.Logf("fluxdiff's log:\n%s", b.String())
		}
	})
	return b.String
}

// lockedBuffer is a bytes.Buffer that the process's output copier and the
// test may use at once.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func waitUntilServing(t *testing.T, url string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			return
		}
	}
	t.Fatalf("%s did not answer within 30s", url)
}

func status(t *testing.T, method, url string) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode
}

// stopWithin sends SIGTERM, as the kubelet does, and fails t unless the
// process exits with status 0 within grace.
func stopWithin(t *testing.T, cmd *exec.Cmd, grace time.Duration) {
	t.Helper()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v, want status 0", err)
		}
	case <-time.After(grace):
		t.Fatalf("fluxdiff did not stop within the grace period %s", grace)
	}
}
