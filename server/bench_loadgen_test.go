package server_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"
)

// loadConfig is what the load generator sends.
type loadConfig struct {
	URL, Secret string
	// Rate is deliveries per second, for Seconds seconds; at most
	// MaxInFlight are outstanding at once (the schedule waits beyond).
	Rate, Seconds, MaxInFlight int
	InstallationID             int64
}

// loadResult is what the load generator measured; latencies in
// milliseconds, from the request's start to its response's end.
type loadResult struct {
	Sent, Accepted int
	// Late counts deliveries sent after their slot because MaxInFlight were
	// outstanding.
	Late          int
	P50, P99, Max float64
	// Elapsed is the seconds from the first send to the last answer.
	Elapsed float64
	// Errors counts failures by status code or error text.
	Errors map[string]int
}

// generateLoad sends cfg.Rate*cfg.Seconds deliveries on an open-loop
// schedule and measures their acknowledgement.
func generateLoad(cfg loadConfig, tmpl []byte) loadResult {
	total := cfg.Rate * cfg.Seconds
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: cfg.MaxInFlight, MaxIdleConnsPerHost: cfg.MaxInFlight, IdleConnTimeout: time.Minute,
	}}
	slots := make(chan struct{}, cfg.MaxInFlight)
	var (
		mu   sync.Mutex
		lat  = make([]float64, 0, total)
		res  = loadResult{Errors: map[string]int{}}
		wg   sync.WaitGroup
		gap  = time.Second / time.Duration(cfg.Rate)
		base = time.Now()
	)
	for i := range total {
		due := base.Add(time.Duration(i) * gap)
		time.Sleep(time.Until(due))
		select {
		case slots <- struct{}{}:
		default:
			res.Late++
			slots <- struct{}{}
		}
		body := delivery(tmpl, i)
		mac := hmac.New(sha256.New, []byte(cfg.Secret))
		mac.Write(body)
		sig := "sha256=" + hex.EncodeToString(mac.Sum(nil))
		wg.Go(func() {
			defer func() { <-slots }()
			ms, status := sendOne(client, cfg.URL, fmt.Sprintf("load-%d", i), sig, body)
			mu.Lock()
			defer mu.Unlock()
			res.Sent++
			lat = append(lat, ms)
			if status == "202" {
				res.Accepted++
			} else {
				res.Errors[status]++
			}
		})
	}
	wg.Wait()
	res.Elapsed = time.Since(base).Seconds()
	slices.Sort(lat)
	if len(lat) > 0 {
		res.P50, res.P99, res.Max = lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
	}
	return res
}

// sendOne posts one delivery and returns its latency and status (or error).
func sendOne(client *http.Client, url, id, sig string, body []byte) (float64, string) {
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "pull_request")
	req.Header.Set("X-GitHub-Delivery", id)
	req.Header.Set("X-Hub-Signature-256", sig)
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return elapsedSince(start), "error: " + err.Error()
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return elapsedSince(start), fmt.Sprint(resp.StatusCode)
}
