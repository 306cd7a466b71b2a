package diff

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

const rbacGroup = "rbac.authorization.k8s.io"

// rbacRisks flags what a change to RBAC newly grants: ClusterRole and Role
// rules that grant "*" verbs or resources, or access to Secrets, and that
// the live object did not grant already (a live rule with the same or
// wider apiGroups, resources and verbs covers them); ClusterRoleBindings
// and RoleBindings to the ClusterRole cluster-admin with subjects the live
// binding did not have. after is the object as it will be (the dry-run
// result, or the manifest of a new object); live is nil for a new one.
func rbacRisks(after, live *unstructured.Unstructured) []Risk {
	if after.GroupVersionKind().Group != rbacGroup {
		return nil
	}
	switch after.GetKind() {
	case "ClusterRole", "Role":
		return ruleRisks(after, live)
	case "ClusterRoleBinding", "RoleBinding":
		return bindingRisks(after, live)
	}
	return nil
}

// policyRule is the part of an RBAC rule that decides what it grants.
type policyRule struct {
	groups, resources, verbs []string
}

func rulesOf(obj *unstructured.Unstructured) []policyRule {
	if obj == nil {
		return nil
	}
	v, _ := fieldValue(obj.Object, "rules")
	items, _ := v.([]any)
	out := make([]policyRule, 0, len(items))
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			continue
		}
		r := policyRule{groups: stringList(m, "apiGroups"), resources: stringList(m, "resources"), verbs: stringList(m, "verbs")}
		if urls := stringList(m, "nonResourceURLs"); len(urls) > 0 {
			r.groups, r.resources = []string{"(non-resource URL)"}, urls
		}
		out = append(out, r)
	}
	return out
}

// covers reports whether r grants verb on resource in group.
func (r policyRule) covers(group, resource, verb string) bool {
	has := func(list []string, v string) bool { return slices.Contains(list, "*") || slices.Contains(list, v) }
	return has(r.groups, group) && has(r.resources, resource) && has(r.verbs, verb)
}

// wide lists why a grant of verb on resource in group is flagged, or "".
func wide(group, resource, verb string) string {
	switch {
	case verb == "*" && resource == "*":
		return "every verb on every resource"
	case verb == "*":
		return "every verb on " + resourceName(group, resource)
	case resource == "*":
		return verb + " on every resource" + inGroup(group)
	case resource == "secrets" && (group == "" || group == "*"):
		return verb + " on Secrets"
	}
	return ""
}

func resourceName(group, resource string) string {
	if group == "" || group == "(non-resource URL)" {
		return resource
	}
	return resource + "." + group
}

func inGroup(group string) string {
	switch group {
	case "*":
		return ""
	case "":
		return " of the core group"
	}
	return " of " + group
}

// ruleRisks flags each rule of after that newly grants something wide.
func ruleRisks(after, live *unstructured.Unstructured) []Risk {
	old := rulesOf(live)
	var out []Risk
	for i, r := range rulesOf(after) {
		var why []string
		for _, g := range r.groups {
			for _, res := range r.resources {
				for _, v := range r.verbs {
					w := wide(g, res, v)
					if w == "" || slices.ContainsFunc(old, func(o policyRule) bool { return o.covers(g, res, v) }) || slices.Contains(why, w) {
						continue
					}
					why = append(why, w)
				}
			}
		}
		if len(why) == 0 {
			continue
		}
		verb := "widened"
		if live == nil {
			verb = "new"
		}
		out = append(out, Risk{Kind: RiskRBAC, Field: fmt.Sprintf("rules[%d]", i), New: showValue(ruleValue(r)),
			Message: fmt.Sprintf("%s %s grants %s", verb, after.GetKind(), strings.Join(why, "; "))})
	}
	return out
}

func ruleValue(r policyRule) map[string]any {
	return map[string]any{"apiGroups": r.groups, "resources": r.resources, "verbs": r.verbs}
}

// bindingRisks flags subjects newly bound to the ClusterRole cluster-admin.
func bindingRisks(after, live *unstructured.Unstructured) []Risk {
	kind, _ := fieldValue(after.Object, "roleRef", "kind")
	name, _ := fieldValue(after.Object, "roleRef", "name")
	if kind != "ClusterRole" || name != "cluster-admin" {
		return nil
	}
	had := map[string]bool{}
	if live != nil {
		if lname, _ := fieldValue(live.Object, "roleRef", "name"); lname == "cluster-admin" {
			for _, s := range subjects(live) {
				had[s] = true
			}
		}
	}
	var added []string
	for _, s := range subjects(after) {
		if !had[s] {
			added = append(added, s)
		}
	}
	if len(added) == 0 && live != nil {
		return nil
	}
	scope := "the whole cluster"
	if after.GetKind() == "RoleBinding" {
		scope = "namespace " + after.GetNamespace()
	}
	who := strings.Join(added, ", ")
	if who == "" {
		who = "no subject yet"
	}
	return []Risk{{Kind: RiskRBAC, Field: "subjects", New: showValue(who),
		Message: "binds cluster-admin on " + scope + " to " + who}}
}

// subjects lists a binding's subjects as "Kind namespace/name".
func subjects(obj *unstructured.Unstructured) []string {
	v, _ := fieldValue(obj.Object, "subjects")
	items, _ := v.([]any)
	var out []string
	for _, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			continue
		}
		kind, _ := m["kind"].(string)
		name, _ := m["name"].(string)
		if ns, _ := m["namespace"].(string); ns != "" {
			name = ns + "/" + name
		}
		out = append(out, kind+" "+name)
	}
	return out
}
