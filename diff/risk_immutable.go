package diff

import (
	"errors"
	"strings"

	ssaerrors "github.com/fluxcd/pkg/ssa/errors"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// immutableRule is a field the API server refuses to change once the
// object exists.
type immutableRule struct {
	path []string
	// shrink: only a smaller quantity is refused (a bound claim may grow).
	shrink bool
}

// immutableRules are the fields of built-in kinds that cannot change, from
// the API server's update validation (k8s.io/kubernetes pkg/apis/*/validation:
// ValidateDeploymentUpdate, ValidateStatefulSetUpdate, ValidateDaemonSetUpdate,
// ValidateJobUpdate, ValidateServiceUpdate, ValidateRoleBindingUpdate,
// ValidatePersistentVolumeClaimUpdate). They name the field and its old and
// new values; whether Flux fails is decided by the dry-run (see
// immutableRisks).
var immutableRules = map[schema.GroupKind][]immutableRule{
	{Group: "apps", Kind: "Deployment"}: {{path: []string{"spec", "selector"}}},
	{Group: "apps", Kind: "DaemonSet"}:  {{path: []string{"spec", "selector"}}},
	{Group: "apps", Kind: "StatefulSet"}: {
		{path: []string{"spec", "selector"}}, {path: []string{"spec", "volumeClaimTemplates"}},
		{path: []string{"spec", "serviceName"}}, {path: []string{"spec", "podManagementPolicy"}},
	},
	{Group: "batch", Kind: "Job"}: {{path: []string{"spec", "selector"}}, {path: []string{"spec", "template"}}},
	{Kind: "Service"}:             {{path: []string{"spec", "clusterIP"}}, {path: []string{"spec", "clusterIPs"}}},
	{Group: "rbac.authorization.k8s.io", Kind: "RoleBinding"}:        {{path: []string{"roleRef"}}},
	{Group: "rbac.authorization.k8s.io", Kind: "ClusterRoleBinding"}: {{path: []string{"roleRef"}}},
	{Kind: "PersistentVolumeClaim"}: {
		{path: []string{"spec", "resources", "requests", "storage"}, shrink: true},
		{path: []string{"spec", "storageClassName"}}, {path: []string{"spec", "accessModes"}},
	},
}

// What Flux does with a change to a field that cannot change, as ssa's
// ResourceManager.ApplyAllStaged does it for kustomize-controller: without
// force the dry-run error stops the apply; with spec.force or the force
// annotation on the manifest or the live object (shouldForceApply, when
// errors.IsImmutableError holds: any Invalid or Conflict answer, or a
// message saying "is immutable" or "immutable field") it deletes the live
// object, waits for it to go and applies the manifest as a new object.
const (
	failMessage       = "Flux will fail to apply this"
	recreateMessage   = "Flux will delete and recreate it (force)"
	recreateFailedMsg = "Flux will delete it and then fail to create it again (force)"
)

// immutableRisks flags an existing object whose change the API server
// refuses in place. Without force the flag needs the dry-run's refusal
// (the object failed) and a field to blame: one of immutableRules that
// differs, or else a cause of the refusal that says the field cannot
// change. With force ssa re-creates the object on any refusal it takes for
// immutability, which is flagged whatever the field; refusal is then the
// in-place dry-run's error, asked again since ssa answers "created" instead.
// fail begins the message of a refusal without force: what the applier
// does (failMessage for kustomize-controller, helmFailMessage for Helm).
func immutableRisks(obj *unstructured.Unstructured, c Change, seen *observation, refusal error, fail string) []Risk {
	live := seen.live
	if live == nil {
		return nil
	}
	message := fail
	switch {
	case seen.recreated && c.Action == ActionFailed:
		message = recreateFailedMsg
	case seen.recreated:
		message = recreateMessage
	case c.Action == ActionFailed && seen.err != nil && ssaerrors.IsImmutableError(seen.err):
		refusal = seen.err
	default:
		return nil
	}
	var out []Risk
	for _, d := range immutableDifferences(obj, live) {
		out = append(out, Risk{Kind: RiskImmutable, Field: d.path, Old: showValue(d.old), New: showValue(d.want),
			Message: message + ": " + d.path + " cannot change (" + arrow(showValue(d.old), showValue(d.want)) + ")"})
	}
	if len(out) > 0 {
		return out
	}
	for _, cause := range immutableCauses(refusal) {
		out = append(out, Risk{Kind: RiskImmutable, Field: cause.Field,
			Message: message + ": the API server refuses the change in place: " + causeText(cause)})
	}
	if len(out) == 0 && seen.recreated {
		why := "the API server refuses the change in place"
		if refusal != nil {
			why += ": " + dryRunReason(refusal)
		}
		out = append(out, Risk{Kind: RiskImmutable, Message: message + ": " + why})
	}
	return out
}

// immutableDifferences lists the fields of immutableRules for obj's kind
// that the manifest sets to something other than live holds.
func immutableDifferences(obj, live *unstructured.Unstructured) []fieldDifference {
	var out []fieldDifference
	for _, rule := range immutableRules[obj.GroupVersionKind().GroupKind()] {
		want, ok := fieldValue(obj.Object, rule.path...)
		if !ok {
			continue
		}
		have, _ := fieldValue(live.Object, rule.path...)
		path := strings.Join(rule.path, ".")
		if rule.shrink {
			if smaller(want, have) {
				out = append(out, fieldDifference{path: path, old: have, want: want})
			}
			continue
		}
		if d, ok := firstDifference(path, want, have); ok {
			out = append(out, d)
		}
	}
	return out
}

// smaller reports whether quantity want is less than quantity have.
func smaller(want, have any) bool {
	w, err1 := resource.ParseQuantity(showValue(want))
	h, err2 := resource.ParseQuantity(showValue(have))
	return err1 == nil && err2 == nil && w.Cmp(h) < 0
}

// immutableCauses returns the causes of an API refusal that say a field
// cannot change: the message says it is immutable or cannot change, or the
// cause is Forbidden. A refusal without causes whose message matches ssa's
// immutable patterns (admission webhooks, CEL rules) gives one cause.
func immutableCauses(err error) []metav1.StatusCause {
	if err == nil {
		return nil
	}
	var out []metav1.StatusCause
	var se apierrors.APIStatus
	if errors.As(err, &se) && se.Status().Details != nil {
		for _, c := range se.Status().Details.Causes {
			msg := strings.ToLower(c.Message)
			if c.Type == metav1.CauseTypeForbidden || strings.Contains(msg, "immutable") || strings.Contains(msg, "cannot change") {
				out = append(out, c)
			}
		}
	}
	if len(out) == 0 && !apierrors.IsInvalid(err) && !apierrors.IsConflict(err) && ssaerrors.IsImmutableError(err) {
		out = append(out, metav1.StatusCause{Message: statusMessage(err)})
	}
	return out
}

// causeText is "field: message", or the message alone.
func causeText(c metav1.StatusCause) string {
	if c.Field == "" {
		return c.Message
	}
	return c.Field + ": " + c.Message
}

// statusMessage is the API server's message in err, or err's text.
func statusMessage(err error) string {
	var se apierrors.APIStatus
	if errors.As(err, &se) {
		return se.Status().Message
	}
	return err.Error()
}
