package store

import (
	"context"
	"fmt"
	"time"
)

// DeliveryKey builds the de-duplication key of a GitHub webhook delivery
// (its X-GitHub-Delivery ID).
func DeliveryKey(deliveryID string) string { return "github:" + deliveryID }

// SlackRequestKey builds the de-duplication key of a Slack request from its
// X-Slack-Signature and X-Slack-Request-Timestamp headers.
func SlackRequestKey(signature, timestamp string) string {
	return "slack:" + timestamp + ":" + signature
}

// ClaimDelivery records key until expires and reports whether this call
// claimed it: false means a live claim exists, so the delivery is a
// duplicate. An expired claim is taken over.
func (q Queries) ClaimDelivery(ctx context.Context, key string, now, expires time.Time) (bool, error) {
	n, err := q.q.exec(ctx, `INSERT INTO delivery_keys (key, created_at, expires_at) VALUES ($1, $2, $3)
ON CONFLICT (key) DO UPDATE SET created_at = excluded.created_at, expires_at = excluded.expires_at
WHERE delivery_keys.expires_at <= $2`, key, now.UTC(), expires.UTC())
	if err != nil {
		return false, fmt.Errorf("store: claim delivery %s: %w", key, err)
	}
	return n == 1, nil
}

// PurgeDeliveries deletes the claims that expired before now and returns how
// many it deleted.
func (q Queries) PurgeDeliveries(ctx context.Context, now time.Time) (int64, error) {
	n, err := q.q.exec(ctx, `DELETE FROM delivery_keys WHERE expires_at <= $1`, now.UTC())
	if err != nil {
		return 0, fmt.Errorf("store: purge deliveries: %w", err)
	}
	return n, nil
}
