package hub

import (
	"bytes"
	"encoding/json"
	"slices"
)

// changedFields lists the top-level keys whose values differ between two
// canonical profiles (every key of after when before is empty), sorted.
func changedFields(before, after json.RawMessage) []string {
	var b, a map[string]json.RawMessage
	_ = json.Unmarshal(before, &b)
	_ = json.Unmarshal(after, &a)
	var changed []string
	for k, v := range a {
		if old, ok := b[k]; !ok || !bytes.Equal(old, v) {
			changed = append(changed, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			changed = append(changed, k)
		}
	}
	slices.Sort(changed)
	return changed
}
