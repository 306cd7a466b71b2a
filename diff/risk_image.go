package diff

import (
	"maps"
	"slices"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
)

// containerLists are the keys under which a pod spec lists containers.
var containerLists = []string{"initContainers", "containers", "ephemeralContainers"}

// imageRisks lists the container images whose reference changes between
// live and after (the dry-run result of an existing object): one entry per
// container, found under any pod spec in the object (Deployment, CronJob,
// custom resources with a pod template alike), named by its path and
// container name. Containers added or removed are listed with "(none)" on
// the other side.
func imageRisks(after, live *unstructured.Unstructured) []Risk {
	if live == nil || after == nil {
		return nil
	}
	was, now := images(live.Object), images(after.Object)
	var out []Risk
	for _, path := range slices.Sorted(maps.Keys(mergeKeys(was, now))) {
		old, new := was[path], now[path]
		if old == new {
			continue
		}
		out = append(out, Risk{Kind: RiskImage, Field: path, Old: old, New: new, Message: "image " + arrow(old, new)})
	}
	return out
}

func mergeKeys(a, b map[string]string) map[string]bool {
	out := make(map[string]bool, len(a)+len(b))
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// images maps "path.containers[name].image" to the image of every named
// container in obj outside metadata and status.
func images(obj map[string]any) map[string]string {
	out := map[string]string{}
	for k, v := range obj {
		if k == "metadata" || k == "status" {
			continue
		}
		collectImages(k, v, out)
	}
	return out
}

func collectImages(path string, v any, out map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, child := range x {
			p := joinPath(path, k)
			if slices.Contains(containerLists, k) {
				if items, ok := child.([]any); ok && addContainers(p, items, out) {
					continue
				}
			}
			collectImages(p, child, out)
		}
	case []any:
		for i, item := range x {
			collectImages(path+itemKey(item, i), item, out)
		}
	}
}

// addContainers records the images of items when they look like
// containers (maps with a name); ok is false otherwise.
func addContainers(path string, items []any, out map[string]string) bool {
	found := false
	for _, it := range items {
		m, ok := it.(map[string]any)
		name, named := m["name"].(string)
		if !ok || !named {
			continue
		}
		found = true
		if image, ok := m["image"].(string); ok {
			out[path+"["+name+"].image"] = image
		}
	}
	return found
}
