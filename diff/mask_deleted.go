package diff

import (
	"context"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// maskDeletions renders again the diff of every object kr deletes, with each
// secret value the run knows (of the new and the live Kustomization spec)
// masked wherever it sits. A deleted object has no build, so the fields that
// carry substituted values are not known by position, and text scrubbing
// misses short values and values YAML quotes or folds. Secret data is masked
// by withDiff as for any Secret.
func (r *run) maskDeletions(ctx context.Context, kr *KustomizationReport) {
	masks := r.secrets.masker()
	if len(masks.values) == 0 {
		return
	}
	for i, c := range kr.Changes {
		if c.Action != ActionDeleted {
			continue
		}
		live := &unstructured.Unstructured{}
		live.SetAPIVersion(c.APIVersion)
		live.SetKind(c.Kind)
		if err := r.d.Client.Get(ctx, client.ObjectKey{Namespace: c.Namespace, Name: c.Name}, live); err != nil {
			// Gone meanwhile, or unreadable: keep the scrubbed text, never
			// an unmasked one.
			continue
		}
		masks.mask(live)
		kr.Changes[i] = r.secrets.scrubChange(withDiff(c, live, nil, nil))
	}
}
