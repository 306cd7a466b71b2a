package queue

import (
	"testing"
	"time"
)

// A stuck job is rescued only after its own timeout has passed: with a
// configured JobTimeout the rescue follows it, 5 minutes later.
func TestRescueFollowsTheJobTimeout(t *testing.T) {
	for _, tt := range []struct {
		in         Config
		timeout    time.Duration
		rescueTime time.Duration
	}{
		{Config{}, 15 * time.Minute, 20 * time.Minute},
		{Config{JobTimeout: 40 * time.Minute}, 40 * time.Minute, 45 * time.Minute},
		{Config{JobTimeout: 40 * time.Minute, RescueStuckJobsAfter: 30 * time.Minute}, 40 * time.Minute, 45 * time.Minute},
		{Config{JobTimeout: 2 * time.Minute, RescueStuckJobsAfter: 10 * time.Minute}, 2 * time.Minute, 10 * time.Minute},
	} {
		got := tt.in.withDefaults()
		if got.JobTimeout != tt.timeout || got.RescueStuckJobsAfter != tt.rescueTime {
			t.Errorf("%v/%v: got timeout %v, rescue after %v; want %v, %v", tt.in.JobTimeout, tt.in.RescueStuckJobsAfter,
				got.JobTimeout, got.RescueStuckJobsAfter, tt.timeout, tt.rescueTime)
		}
	}
}
