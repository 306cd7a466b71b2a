package queue

import (
	"context"
	"testing"
	"time"

	"github.com/fluxdiff/fluxdiff/server/store"
	"github.com/fluxdiff/fluxdiff/server/store/storetest"
)

func TestPurge(t *testing.T) {
	for _, b := range storetest.Backends() {
		t.Run(b.Name, func(t *testing.T) {
			t.Run("the periodic job deletes expired delivery keys and keeps live ones", func(t *testing.T) { testPeriodicPurge(t, b) })
		})
	}
}

func testPeriodicPurge(t *testing.T, b storetest.Backend) {
	st := openStore(t, b.URL(t))
	now := time.Now()
	for key, expires := range map[string]time.Time{"github:old-1": now.Add(-time.Hour), "github:old-2": now.Add(-time.Minute), "github:live": now.Add(time.Hour)} {
		if _, err := st.ClaimDelivery(t.Context(), key, now.Add(-2*time.Hour), expires); err != nil {
			t.Fatal(err)
		}
	}
	cfg := testConfig(t)
	cfg.PurgeInterval = 200 * time.Millisecond
	newQueue(t, st, cfg, Handlers{}, true)
	waitFor(t, 30*time.Second, "the expired keys to be purged", func() (bool, error) {
		return countDeliveryKeys(t, st) == 1, nil
	})
	// The live key is still claimed: a duplicate of it is refused.
	ok, err := st.ClaimDelivery(t.Context(), "github:live", now, now.Add(time.Hour))
	if err != nil || ok {
		t.Errorf("claim of the live key after the purge = %v, %v; want refused", ok, err)
	}
	waitFor(t, 30*time.Second, "a second purge run", func() (bool, error) {
		return countPurgeJobs(t, st, "completed") >= 2, nil
	})
}

func countDeliveryKeys(t testing.TB, st *store.Store) int {
	return countRows(t, st, `SELECT COUNT(*) FROM delivery_keys`)
}

func countPurgeJobs(t testing.TB, st *store.Store, state string) int {
	return countRows(t, st, `SELECT COUNT(*) FROM river_job WHERE kind = 'purge_delivery_keys' AND state = $1`, state)
}

func countRows(t testing.TB, st *store.Store, q string, args ...any) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var n int
	var err error
	if db := st.SQLDB(); db != nil {
		err = db.QueryRowContext(ctx, q, args...).Scan(&n)
	} else {
		err = st.PgxPool().QueryRow(ctx, q, args...).Scan(&n)
	}
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}
